#!/usr/bin/perl
# queue-service: 001's "Service 3: Queue Manager" as the document writes it (below the marker line), with only
# the application around it: its functions (stubs in lib/Seed001App.pm) and the variables the
# fragment uses. t/seed001.t runs a copy with "tcp_port => 17000" replaced by its sidecar's port
# (001 hard-codes the port and an argument wins over the environment).
#   queue-service: runs db_loader.pl for every queued job, until the queue is empty.
use warnings;
use Seed001App;
# ---- 001, verbatim from here (t/seed001.t checks it against the document) ----
my $mon = Monitoring::SDK->new(
    source => 'queue-service',
    tcp_host => 'localhost',
    tcp_port => 17000
);

while (my $job = dequeue()) {
    my $span_id = $mon->start_span('process_job');
    $mon->set_context('job_id', $job->{id});
    
    $mon->log_progress($job->{id}, 0, 'started');
    
    # Call script
    system("perl db_loader.pl $job->{file}");
    
    $mon->log_progress($job->{id}, 100, 'completed');
    $mon->end_span($span_id, 'success');
    
    $mon->log_metric('jobs_processed', 1, 'count');
}
