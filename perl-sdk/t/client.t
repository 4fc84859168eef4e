#!/usr/bin/perl
# Behaviour of the client beyond the vectors: never blocking on a sidecar that stops reading (and
# partial writes resumed intact), heartbeats, backoff, JSON escaping, SIGTERM handling, forked
# children, and a child process continuing the parent's trace.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib", "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use IO::Select;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep);
use SignalboxTest qw(poll_until);
use Monitoring::SDK;
use MonitoringSDK;

my $LIB = "$FindBin::Bin/../lib";
my $json = JSON::PP->new->utf8;
$SIG{ALRM} = sub { BAIL_OUT('a call blocked: the test did not finish within 120 s') };
alarm 120;

sub listener { IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1', LocalPort => 0, ReuseAddr => 1) or die $! }

# Reads every connection accepted on $l until the peers close them; decoded lines in order.
sub drain {
    my ($l, $sdk) = @_;
    my ($all, $wait) = ('', 3);
    my $sel = IO::Select->new($l);
    while ($sel->can_read($wait)) {
        $wait = 0.2;
        my $c = $l->accept or last;
        my $cs = IO::Select->new($c);
        while (1) {
            $sdk->poll if $sdk && $sdk->state ne 'CLOSED';
            next unless $cs->can_read(0.01) || ($sdk && $sdk->state ne 'CLOSED');
            my $n = sysread($c, my $buf, 1 << 20);
            last if defined $n && $n == 0;
            $all .= $buf if $n;
            last if $sdk && $sdk->state eq 'CLOSED' && !$cs->can_read(0.5);
        }
    }
    return [map { my $v = eval { $json->decode($_) }; $v // { raw => $_ } } grep { length } split /\n/, $all];
}

subtest 'a sidecar that stops reading never blocks a call; partial writes resume intact' => sub {
    my $l = listener();    # accepts nothing until the end: the kernel buffers fill, then send() would block
    my $sdk = Monitoring::SDK->new(source => 'stall', port => $l->sockport, signals => 0, heartbeat_interval => 3600);
    my $pad = 'x' x 2000;
    my $total = 30000;
    $sdk->log_event(info => "n=$_ $pad") for 1 .. $total;
    is $sdk->state, 'OVERFLOW', 'OVERFLOW once the kernel buffers and the SDK buffer are full';
    is $sdk->buffered, 1000, 'the SDK buffer holds its bound (1000)';
    cmp_ok $sdk->dropped, '>', 0, 'the newest messages were refused: dropped=' . $sdk->dropped;
    # now the sidecar reads: accept, read while poll() writes the rest, then close
    my $c = $l->accept;
    my $all = '';
    poll_until(60, sub {
        $sdk->poll;
        while (IO::Select->new($c)->can_read(0.01)) { sysread($c, my $buf, 1 << 20) or last; $all .= $buf }
        $sdk->buffered == 0;
    }, 0);
    is $sdk->buffered, 0, 'poll() wrote the buffer once the sidecar read again';
    $sdk->close;
    while (IO::Select->new($c)->can_read(5)) { sysread($c, my $buf, 1 << 20) or last; $all .= $buf }
    # (JSON::PP takes ~1 ms per 2 KB line: the events are checked with a pattern instead)
    my @lines = split /\n/, $all;
    my $event = qr/^\{"v":1,"src":"stall","ts":\d+,"type":"event","data":\{"level":"info","msg":"n=(\d+) x{2000}"\}\}$/;
    my @bad = grep { !/$event/ && !/"type":"(?:hello|goodbye)"/ } @lines;
    is scalar @bad, 0, 'every line arrived whole (partially written lines were completed)';
    my @n = map { /$event/ ? $1 : () } @lines;
    my $lines = [map { $json->decode($_) } grep { !/$event/ } @lines];
    is scalar @n, $total - $sdk->dropped, 'every message not counted as dropped arrived';
    ok !grep({ $n[$_] <= $n[$_ - 1] } 1 .. $#n), 'in order, once';
    is $lines->[-1]{type}, 'goodbye', 'goodbye at the end';
    is $lines->[-1]{data}{dropped}, $sdk->dropped, 'goodbye reports the drops';
};

for my $coalesce (0, 1) {
    subtest "a lone message reaches the sidecar without any further call (coalesce => $coalesce)" => sub {
        my $l = listener();
        my $sdk = Monitoring::SDK->new(source => 'lone', port => $l->sockport, signals => 0, coalesce => $coalesce);
        $sdk->log_event(info => 'only one');   # then no call: with coalesce the kernel sends it within 200 ms
        my $c = $l->accept;
        my $got = '';
        poll_until(10, sub { my $n = sysread($c, my $buf, 4096); $got .= $buf if $n; $got =~ /only one/ }, 0.01);
        like $got, qr/"msg":"only one"/, 'arrived';
        $sdk->close;
    };
}

subtest 'heartbeats every heartbeat_interval, with buffered and dropped' => sub {
    my $l = listener();
    my $sdk = Monitoring::SDK->new(source => 'hb', port => $l->sockport, signals => 0, heartbeat_interval => 0.05);
    $sdk->log_event(info => 'one');
    sleep 0.1;
    $sdk->log_event(info => 'two');
    $sdk->close;
    my $lines = drain($l);
    is_deeply [map { $_->{type} } @$lines], [qw(hello event heartbeat event goodbye)], 'hello, event, heartbeat, event, goodbye';
    is_deeply $lines->[2]{data}, { buffered => 1, dropped => 0 }, 'heartbeat data';
    is $lines->[0]{data}{sdk}, 'perl', 'hello names the SDK';
};

subtest 'no sidecar: calls return, reconnects back off exponentially up to reconnect_max' => sub {
    my $port = do { my $l = listener(); $l->sockport };   # closed again: nothing listens there
    my $sdk = Monitoring::SDK->new(source => 'away', port => $port, signals => 0, reconnect_min => 0.01, reconnect_max => 0.04);
    my @backoffs = ($sdk->{backoff});
    for (1 .. 4) {   # each failed attempt sets the time of the next one
        my $next = $sdk->{next_try};
        poll_until(2, sub { $sdk->log_event(info => 'x'); $sdk->{next_try} != $next });
        push @backoffs, $sdk->{backoff};
    }
    is_deeply \@backoffs, [0.01, 0.02, 0.04, 0.04, 0.04], 'backoff 0.01 → 0.02 → 0.04 (capped)'
        or diag "@backoffs";
    is $sdk->state, 'DISCONNECTED', 'DISCONNECTED';
    cmp_ok $sdk->buffered, '>', 0, 'messages kept in the buffer';
    $sdk->close;
    is $sdk->state, 'CLOSED', 'close() returns';
};

subtest 'strings are escaped, character strings sent as UTF-8, numbers stay numbers' => sub {
    my $l = listener();
    my $sdk = MonitoringSDK->init('esc', '127.0.0.1', $l->sockport, signals => 0);
    isa_ok $sdk, 'Monitoring::SDK', 'MonitoringSDK->init';
    my $msg = "quote \" backslash \\ newline \n tab \t ctrl \x01 caf\x{e9} \x{2603}";
    $sdk->log_event(error => $msg, { count => 3, ratio => 0.5, text => '007', list => [1, 'a'], ok => \1 });
    $sdk->log_metric('latency', '12.5', 'ms');
    $sdk->close;
    my ($ev, $m) = grep { $_->{type} eq 'event' || $_->{type} eq 'metric' } @{drain($l)};
    is $ev->{data}{msg}, $msg, 'message text round-trips';
    is_deeply $ev->{data}{ctx}, { count => 3, ratio => 0.5, text => '007', list => [1, 'a'], ok => JSON::PP::true },
        'ctx values keep their types';
    is $m->{data}{value}, 12.5, 'a numeric string as metric value is a number';
};

sub run_child {   # runs perl code in a child; returns its wait status
    my ($code, %env) = @_;
    my $pid = fork // die;
    if (!$pid) {
        @ENV{keys %env} = values %env;
        { exec $^X, "-I$LIB", '-MMonitoring::SDK', '-e', $code }
        POSIX::_exit(127);
    }
    waitpid $pid, 0;
    return $?;
}

subtest 'SIGTERM: the handler closes (goodbye) and the process still dies of SIGTERM' => sub {
    my $l = listener();
    my $st = run_child('my $m = Monitoring::SDK->new(source => "sig"); $m->log_event(info => "x"); kill TERM => $$; sleep 5; exit 9',
        SIGNALBOX_PORT => $l->sockport);
    is $st & 127, 15, 'killed by SIGTERM';
    is_deeply [map { $_->{type} } @{drain($l)}], [qw(hello event goodbye)], 'goodbye sent';
};

subtest 'SIGTERM with the application\'s own handler: the SDK closes, then calls it' => sub {
    my $l = listener();
    my $st = run_child('$SIG{TERM} = sub { exit 3 }; my $m = Monitoring::SDK->new(source => "sig");'
        . ' $m->log_event(info => "x"); kill TERM => $$; sleep 5; exit 9', SIGNALBOX_PORT => $l->sockport);
    is $st >> 8, 3, 'the application handler ran (exit 3)';
    is_deeply [map { $_->{type} } @{drain($l)}], [qw(hello event goodbye)], 'goodbye sent';
};

subtest 'SIGTERM in the middle of writing: every line whole, none twice, goodbye counts them' => sub {
    for my $round (1 .. 20) {   # (before the handler waited for the write in progress, 2 of 3 rounds failed)
        my $l = listener();
        my $pid = fork // die;
        if (!$pid) {
            $ENV{SIGNALBOX_PORT} = $l->sockport;
            { exec $^X, "-I$LIB", '-MMonitoring::SDK', '-e',
                'my $m = Monitoring::SDK->new(source => "busy"); $m->log_event(info => "n=$_ " . ("x" x 100)) for 1 .. 2e6; exit 9' }
            POSIX::_exit(127);
        }
        my $c = $l->accept;
        my ($all, $at) = ('', 20000 + int rand 200000);
        while (1) {
            my $n = sysread($c, my $buf, 1 << 16) or last;
            $all .= $buf;
            kill 'TERM', $pid if length($all) >= $at && length($all) - $n < $at;
        }
        waitpid $pid, 0;
        my $st = $?;
        my @lines = split /\n/, $all;
        my @n = map { /"msg":"n=(\d+) x{100}"\}\}$/ ? $1 : () } @lines;
        my $bye = eval { $json->decode($lines[-1]) } // {};
        ok(($st & 127) == 15 && $lines[0] =~ /"type":"hello"/ && $bye->{type} eq 'goodbye'
            && @n + 2 == @lines && "@n" eq join(' ', 1 .. scalar @n) && $bye->{data}{sent} == @n,
            "round $round: killed by SIGTERM after " . scalar(@n) . ' messages: hello, 1..N whole and once, goodbye sent=N')
            or diag "status $st, lines " . scalar(@lines) . ", last: $lines[-1]";
    }
};

subtest 'an application signal handler that logs while the SDK writes: its lines are buffered, nothing breaks' => sub {
    for my $round (1 .. 3) {   # (before, the nested write corrupted the buffer and the writer spun forever)
        my $l = listener();
        my $pid = fork // die;
        if (!$pid) {
            $ENV{SIGNALBOX_PORT} = $l->sockport;
            { exec $^X, "-I$LIB", '-MMonitoring::SDK', '-e', 'alarm 60; my ($m, $h) = (undef, 0); $SIG{USR1} = sub { $m->log_event(info => "h=" . ++$h) if $m };'
                . ' $m = Monitoring::SDK->new(source => "usr1");'
                . ' $m->log_event(info => "n=$_ " . ("x" x 100)) for 1 .. 20000; $m->close(10); $SIG{USR1} = "IGNORE"; exit 0' }
            POSIX::_exit(127);
        }
        my $c = $l->accept;
        my ($all, $k) = ('', 0);
        while (1) { my $n = sysread($c, my $buf, 1 << 16) or last; $all .= $buf; kill 'USR1', $pid if $k++ % 3 == 0 }
        waitpid $pid, 0;
        my $st = $?;
        my @lines = split /\n/, $all;
        my @n = map { /"msg":"n=(\d+) x{100}"\}\}$/ ? $1 : () } @lines;
        my @h = map { /"msg":"h=(\d+)"\}\}$/ ? $1 : () } @lines;
        ok $st == 0 && @n + @h + 2 == @lines && "@n" eq join(' ', 1 .. 20000) && "@h" eq join(' ', 1 .. scalar @h),
            "round $round: exit 0, 20000 messages and " . scalar(@h) . ' from the handler, each whole and once, in order'
            or diag "status $st, lines " . scalar(@lines);
    }
};

subtest 'signals => 0 installs no handler' => sub {
    my $l = listener();
    my $st = run_child('my $m = Monitoring::SDK->new(source => "sig", signals => 0); $m->log_event(info => "x");'
        . ' kill TERM => $$; sleep 5; exit 9', SIGNALBOX_PORT => $l->sockport);
    is $st & 127, 15, 'killed by SIGTERM';
    is_deeply [map { $_->{type} } @{drain($l)}], [qw(hello event)], 'no goodbye';
};

subtest 'a forked child never writes on the parent\'s connection: it opens its own' => sub {
    my $l = listener();
    my $sdk = Monitoring::SDK->new(source => 'fork', port => $l->sockport, signals => 0);
    $sdk->log_event(info => 'before');
    my $pid = fork // die;
    if (!$pid) { $sdk->log_event(info => 'child'); $sdk->close; exit 0 }   # END and DESTROY run too
    waitpid $pid, 0;
    $sdk->log_event(info => 'after');
    $sdk->close;
    is_deeply [map { $_->{data}{msg} // $_->{type} } @{drain($l)}],
        [qw(hello before after goodbye hello child goodbye)], 'the parent\'s connection, then the child\'s';
};

subtest 'a child process continues the trace through SIGNALBOX_TRACE / export_trace' => sub {
    my $l = listener();
    local $ENV{SIGNALBOX_PORT} = $l->sockport;
    delete local $ENV{SIGNALBOX_TRACE};
    my $sdk = Monitoring::SDK->new(source => 'parent', signals => 0);
    $sdk->set_context(job_id => 'job-77');
    my $sid = $sdk->span(run => sub {
        my ($sid) = @_;
        local %ENV = %ENV;
        $sdk->export_trace;
        is $ENV{SIGNALBOX_TRACE}, "job-77:$sid", 'SIGNALBOX_TRACE exported';
        run_child('my $m = Monitoring::SDK->new(source => "child"); $m->span(load => sub { $m->log_event(info => "in child") }); $m->close');
        $sid;
    });
    $sdk->close;
    my @spans = grep { $_->{type} eq 'span' } @{drain($l)};
    my ($child) = grep { $_->{src} eq 'child' } @spans;
    my ($parent) = grep { $_->{src} eq 'parent' } @spans;
    is $child->{tid}, 'job-77', 'the child span is in the parent\'s trace';
    is $child->{pid}, $parent->{sid}, 'its parent is the parent\'s open span';
    is $parent->{sid}, $sid, 'span() passes the span id';
};

subtest 'a client going out of scope closes (goodbye)' => sub {
    my $l = listener();
    { my $sdk = Monitoring::SDK->new(source => 'scope', port => $l->sockport, signals => 0); $sdk->log_event(info => 'x') }
    is_deeply [map { $_->{type} } @{drain($l)}], [qw(hello event goodbye)], 'hello, event, goodbye';
};

subtest 'span() records an error status and rethrows' => sub {
    my $l = listener();
    my $sdk = Monitoring::SDK->new(source => 'err', port => $l->sockport, signals => 0);
    ok !eval { $sdk->span(boom => sub { die "bad input\n" }); 1 }, 'the error is rethrown';
    is $@, "bad input\n", 'unchanged';
    $sdk->close;
    my ($span) = grep { $_->{type} eq 'span' } @{drain($l)};
    is $span->{data}{status}, 'error', 'status error';
    is $span->{data}{attrs}{error}, "bad input\n", 'the error text in attrs';
};

done_testing;
