#!/usr/bin/perl
# file-receiver: 001's "Service 2: File Receiver" as the document writes it (below the marker line), with only
# the application around it: its functions (stubs in lib/Seed001App.pm) and the variables the
# fragment uses. t/seed001.t runs a copy with "tcp_port => 17000" replaced by its sidecar's port
# (001 hard-codes the port and an argument wins over the environment).
#   file-receiver FILE: checks one received file and queues it.
use warnings;
use Seed001App;
our $file = $ARGV[0];
our $config = read_config('app.conf');
# ---- 001, verbatim from here (t/seed001.t checks it against the document) ----
my $mon = Monitoring::SDK->new(
    source => 'file-receiver',
    tcp_host => 'localhost',
    tcp_port => 17000
);

my $job_id = generate_job_id();
$mon->set_context('job_id', $job_id);
$mon->log_event('info', 'Received file', {filename => $file});

if (validate_file($file, $config)) {
    $mon->log_metric('file_valid', 1);
    enqueue($file);
    $mon->log_event('info', 'File queued');
} else {
    $mon->log_metric('file_valid', 0);
    $mon->log_event('error', 'Invalid file');
}
