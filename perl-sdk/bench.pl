#!/usr/bin/perl
# Per-call overhead of Monitoring::SDK on the caller's thread: p50 / p99 / p99.9 per call.
#
#   perl perl-sdk/bench.pl                 sidecar absent, and present (a local reader process)
#   perl perl-sdk/bench.pl --port 17000    also against a real sidecar listening on that port
#   perl perl-sdk/bench.pl --calls 50000   calls per measurement (default 100000)
#   perl perl-sdk/bench.pl --only present  only the rows whose label contains "present"
#
# "absent, buffering": nothing listens and the buffer is large enough to keep everything (the cost
# of building and buffering a line); "absent, overflow": the default bound of 1000 is full and
# new messages are counted as dropped; "present": every call writes its line to the socket;
# "coalesce": the same with coalesce => 1 (TCP_CORK). cpu = user+system CPU time per call (average),
# which a busy host inflates much less than the wall-clock percentiles.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Getopt::Long;
use IO::Socket::INET;
use POSIX ();
use IO::Select;
use Time::HiRes qw(time);
use Monitoring::SDK;

GetOptions('port=i' => \my $real_port, 'calls=i' => \(my $N = 100_000), 'only=s' => \(my $only = ''))
    or die "usage: $0 [--port P] [--calls N] [--only TEXT]\n";

my %calls = (
    'log_event'            => sub { $_[0]->log_event(info => 'row loaded', { table => 'orders', row => $_[1] }) },
    'log_metric'           => sub { $_[0]->log_metric('rows_loaded', $_[1], 'count', { table => 'orders' }) },
    'log_progress'         => sub { $_[0]->log_progress('job-1', 50, 'running') },
    'start_span+end_span'  => sub { $_[0]->end_span($_[0]->start_span('parse'), 'ok') },
    'set_context'          => sub { $_[0]->set_context(step => $_[1]) },
);
my @order = ('log_event', 'log_metric', 'log_progress', 'start_span+end_span', 'set_context');

my $closed_port = do { my $l = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0); $l->sockport };
printf "Monitoring::SDK %s, perl %vd, %d calls per row, times in microseconds\n", $Monitoring::SDK::VERSION, $^V, $N;
printf "%-32s %-20s %7s %7s %8s %6s\n", 'sidecar', 'call', 'p50', 'p99', 'p99.9', 'cpu';
run('absent, buffering', $closed_port, buffer_size => 10 * $N);
run('absent, overflow', $closed_port);
{
    my ($port, $reader) = reader();
    run('present (local reader)', $port);
    run('present, coalesce (local reader)', $port, coalesce => 1);
    kill 'TERM', $reader;
    waitpid $reader, 0;
}
run("present (sidecar :$real_port)", $real_port) if $real_port;
run("present, coalesce (sidecar)", $real_port, coalesce => 1) if $real_port;

sub run {
    my ($label, $port, %o) = @_;
    return unless index($label, $only) >= 0;
    for my $name (@order) {
        my $sdk = Monitoring::SDK->new(source => 'bench', port => $port, signals => 0, reconnect_min => 3600, %o);
        $sdk->set_context(job_id => 'job-1');
        my $call = $calls{$name};
        $call->($sdk, $_) for 1 .. 2000;   # warm up (and fill the buffer for "overflow")
        my @t;
        $#t = $N - 1;
        my @cpu0 = times;
        for my $i (1 .. $N) {
            my $t0 = time;
            $call->($sdk, $i);
            $t[$i - 1] = time - $t0;
        }
        my @cpu1 = times;
        @t = sort { $a <=> $b } @t;
        printf "%-32s %-20s %7.1f %7.1f %8.1f %6.1f\n", $label, $name, (map { 1e6 * $t[int($_ * $N)] } 0.5, 0.99, 0.999),
            1e6 * ($cpu1[0] + $cpu1[1] - $cpu0[0] - $cpu0[1]) / $N;
        $sdk->close(10);
    }
}

# A process that accepts connections and reads everything (a sidecar that keeps up).
sub reader {
    my $l = IO::Socket::INET->new(Listen => 16, LocalAddr => '127.0.0.1', LocalPort => 0, ReuseAddr => 1) or die $!;
    my $pid = fork // die;
    return ($l->sockport, $pid) if $pid;
    my @c;
    my $sel = IO::Select->new($l);
    while (1) {
        for my $h ($sel->can_read(1)) {
            if ($h == $l) { $sel->add($l->accept); next }
            my $n = sysread($h, my $buf, 1 << 20);
            $sel->remove($h), close $h unless $n;
        }
    }
    POSIX::_exit(0);
}
