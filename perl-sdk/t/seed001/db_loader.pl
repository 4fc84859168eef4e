#!/usr/bin/perl
# db-loader: 001's "Script: DB Loader" as the document writes it (below the marker line), with only
# the application around it: its functions (stubs in lib/Seed001App.pm) and the variables the
# fragment uses. t/seed001.t runs a copy with "tcp_port => 17000" replaced by its sidecar's port
# (001 hard-codes the port and an argument wins over the environment).
#   db_loader.pl FILE (named as queue-service's system() call names it): loads one file.
use warnings;
use Seed001App;
# ---- 001, verbatim from here (t/seed001.t checks it against the document) ----
my $mon = Monitoring::SDK->new(
    source => 'db-loader',
    tcp_host => 'localhost',
    tcp_port => 17000
);

my $span_id = $mon->start_span('load_data');
$mon->log_event('info', 'Starting DB load', {file => $ARGV[0]});

my $rows = load_file_to_db($ARGV[0]);

$mon->log_metric('rows_loaded', $rows, 'count');
$mon->log_resource(cpu_percent(), memory_mb(), disk_io_mb());
$mon->end_span($span_id, 'success');
