#!/usr/bin/perl
# config-service: 001's "Service 1: Config Parser" as the document writes it (below the marker line), with only
# the application around it: its functions (stubs in lib/Seed001App.pm) and the variables the
# fragment uses. t/seed001.t runs a copy with "tcp_port => 17000" replaced by its sidecar's port
# (001 hard-codes the port and an argument wins over the environment).
#   config-service ARGS: the config file.
use warnings;
use Seed001App;
our $config_file = $ARGV[0];
# ---- 001, verbatim from here (t/seed001.t checks it against the document) ----
use Monitoring::SDK;

my $mon = Monitoring::SDK->new(
    source => 'config-service',
    tcp_host => 'localhost',
    tcp_port => 17000
);

$mon->log_event('info', 'Reading config file', {file => $config_file});
my $config = parse_config($config_file);
$mon->log_metric('config_size_kb', length($config) / 1024, 'kilobytes');
$mon->log_event('info', 'Config loaded successfully');
