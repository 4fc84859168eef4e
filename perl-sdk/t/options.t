#!/usr/bin/perl
# Construction as the design documents write it: tcp_host / tcp_port, 'localhost', the
# environment of 002's deployment example (MONITORING_TCP_HOST / MONITORING_TCP_PORT) after the
# SIGNALBOX_* variables, a warning for every option or value that cannot be used, 002's init() and
# module-level calls, and the trace carried to child processes through %ENV (001's
# queue-service runs db_loader.pl with system()).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib", "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use IO::Select;
use JSON::PP;
use Monitoring::SDK qw(init log_event log_metric start_span end_span set_context);
use MonitoringSDK;

$SIG{ALRM} = sub { BAIL_OUT('the test did not finish within 120 s') };
alarm 120;
delete @ENV{qw(SIGNALBOX_TRACE TRACEPARENT SIGNALBOX_SOURCE SIGNALBOX_HOST SIGNALBOX_PORT
               MONITORING_TCP_HOST MONITORING_TCP_PORT)};
my $json = JSON::PP->new->utf8;
my @OFF = (signals => 0, heartbeat_interval => 3600);

sub listener { IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1', LocalPort => 0, ReuseAddr => 1) or die $! }

# Every line the (already closed) clients wrote to $l, decoded, connection after connection.
sub lines_of {
    my ($l) = @_;
    my @out;
    my $sel = IO::Select->new($l);
    while ($sel->can_read(@out ? 0.2 : 3)) {
        my $c = $l->accept or last;
        my $all = '';
        while (IO::Select->new($c)->can_read(3)) { my $n = sysread($c, my $buf, 65536); last unless $n; $all .= $buf }
        push @out, map { $json->decode($_) } grep { length } split /\n/, $all;
    }
    return \@out;
}
sub events { [map { $_->{data}{msg} } grep { $_->{type} eq 'event' } @{$_[0]}] }

# Runs $code, returns the warnings it gave.
sub warnings_of { my $code = shift; my @w; local $SIG{__WARN__} = sub { push @w, $_[0] }; $code->(); return @w }

subtest "001's call: tcp_host => 'localhost', tcp_port => P" => sub {
    my $l = listener();
    my @w = warnings_of(sub {
        my $mon = Monitoring::SDK->new(source => 'config-service', tcp_host => 'localhost', tcp_port => $l->sockport, @OFF);
        is $mon->host, 'localhost', 'host';
        is $mon->port, $l->sockport, 'port';
        $mon->log_event('info', 'Reading config file', { file => 'a.conf' });
        $mon->close;
    });
    is_deeply \@w, [], 'no warning';
    is_deeply events(lines_of($l)), ['Reading config file'], 'the event arrived at tcp_host:tcp_port';
};

subtest 'MonitoringSDK (000\'s name) takes the same names' => sub {
    my $l = listener();
    my $mon = MonitoringSDK->new(source => 'my-service', tcp_host => 'localhost', tcp_port => $l->sockport, @OFF);
    $mon->log_event('info', 'Service started');
    $mon->close;
    is_deeply events(lines_of($l)), ['Service started'], 'arrived';
};

subtest 'precedence: argument > SIGNALBOX_* > MONITORING_* > default' => sub {
    my %env = (SIGNALBOX_HOST => 'sb.invalid', SIGNALBOX_PORT => 1111,
               MONITORING_TCP_HOST => 'mon.invalid', MONITORING_TCP_PORT => 2222);
    my @cases = (   # environment variables set, arguments, expected host and port
        [[qw(SIGNALBOX_HOST SIGNALBOX_PORT MONITORING_TCP_HOST MONITORING_TCP_PORT)], [host => 'arg.invalid', port => 3333], 'arg.invalid', 3333],
        [[qw(SIGNALBOX_HOST SIGNALBOX_PORT MONITORING_TCP_HOST MONITORING_TCP_PORT)], [tcp_host => 'arg.invalid', tcp_port => 3333], 'arg.invalid', 3333],
        [[qw(SIGNALBOX_HOST SIGNALBOX_PORT MONITORING_TCP_HOST MONITORING_TCP_PORT)], [], 'sb.invalid', 1111],
        [[qw(MONITORING_TCP_HOST MONITORING_TCP_PORT)], [], 'mon.invalid', 2222],
        [[qw(SIGNALBOX_PORT MONITORING_TCP_HOST)], [], 'mon.invalid', 1111],
        [[], [], '127.0.0.1', 17000],
    );
    for my $c (@cases) {
        my ($set, $args, $host, $port) = @$c;
        local @ENV{@$set} = @env{@$set};
        my $mon;
        # *.invalid never resolves (RFC 6761): one warning about it is expected, nothing else
        my @w = grep { !/cannot resolve host '\Q$host\E'/ } warnings_of(sub { $mon = Monitoring::SDK->new(@$args, @OFF) });
        is_deeply [$mon->host, $mon->port], [$host, $port], "env {@$set}, args {@$args}: $host:$port";
        is_deeply \@w, [], '  no other warning';
        $mon->close(0);
    }
    local @ENV{qw(SIGNALBOX_HOST MONITORING_TCP_HOST)} = ('', 'mon.invalid');
    my $mon;
    warnings_of(sub { $mon = Monitoring::SDK->new(@OFF) });
    is $mon->host, 'mon.invalid', 'an empty variable counts as not set';
    $mon->close(0);
};

subtest 'the environment of 002\'s deployment example reaches the sidecar' => sub {
    my $l = listener();
    local @ENV{qw(MONITORING_TCP_HOST MONITORING_TCP_PORT)} = ('localhost', $l->sockport);
    my $mon = Monitoring::SDK->new(source => 'app', @OFF);
    $mon->log_event('info', 'from the environment');
    $mon->close;
    is_deeply events(lines_of($l)), ['from the environment'], 'arrived at MONITORING_TCP_HOST:MONITORING_TCP_PORT';
};

subtest 'an unknown option is never ignored silently' => sub {
    my $l = listener();
    my ($mon, $line);
    my @w = warnings_of(sub {
        $line = __LINE__ + 1;
        $mon = Monitoring::SDK->new(source => 'x', port => $l->sockport, tcp_hots => 'localhost', bufer_size => 5, @OFF);
    });
    is scalar @w, 1, 'one warning' or diag "@w";
    like $w[0], qr/unknown options 'bufer_size', 'tcp_hots' ignored/, 'naming both unknown options';
    like $w[0], qr/known options: source, host, port, tcp_host, tcp_port, buffer_size\b/, 'listing the known ones';
    like $w[0], qr/at \Q$0\E line $line\b/, "reported at the caller's line ($line)";
    $mon->log_event('info', 'still works');
    $mon->close;
    is_deeply events(lines_of($l)), ['still works'], 'the known options still apply';

    @w = warnings_of(sub { Monitoring::SDK::init('x', 'localhost', $l->sockport, colour => 'red', @OFF)->close });
    is scalar @w, 1, 'init() warns too';
    like $w[0], qr/unknown option 'colour' ignored; known options: /, '  naming it';
    lines_of($l);
};

subtest 'values that cannot be used are said, not ignored' => sub {
    my @w = warnings_of(sub { Monitoring::SDK->new(host => '127.0.0.1', tcp_host => 'other', port => 1, @OFF)->close(0) });
    like "@w", qr/host '127\.0\.0\.1' and tcp_host 'other' differ; using host/, 'host and tcp_host differ';
    my $mon;
    @w = warnings_of(sub { local $ENV{MONITORING_TCP_PORT} = '17x'; $mon = Monitoring::SDK->new(host => '127.0.0.1', @OFF) });
    is scalar @w, 1, 'one warning for a bad port';
    like $w[0], qr/port '17x' \(from MONITORING_TCP_PORT\) is not a valid port; ignored/, '  naming the variable';
    is $mon->port, 17000, '  and the next in line (the default) is used';
    $mon->close(0);
    @w = warnings_of(sub { $mon = Monitoring::SDK->new(port => 70000, tcp_port => 'abc', @OFF) });
    is $mon->port, 17000, 'port 70000 and tcp_port abc: the default';
    is scalar(grep { /is not a valid port/ } @w), 2, '  two warnings';
    $mon->close(0);
    @w = warnings_of(sub { $mon = Monitoring::SDK->new(host => 'no-such-host.invalid', @OFF); $mon->log_event('info', 'x') for 1 .. 3 });
    is scalar @w, 1, 'an unresolvable host: one warning, not one per attempt';
    like $w[0], qr/cannot resolve host 'no-such-host\.invalid'; messages are buffered/, '  saying so';
    is $mon->buffered, 3, '  the messages are kept';
    $mon->close(0);
};

subtest "002's init() and module-level calls" => sub {
    my ($l1, $l2) = (listener(), listener());
    my $mon = init('svc-a', 'localhost', $l1->sockport, @OFF);
    isa_ok $mon, 'Monitoring::SDK';
    is Monitoring::SDK::get_client(), $mon, 'get_client returns it';
    set_context('job_id', 'job-7');
    my $sid = start_span('load');
    log_event('info', 'imported call');
    Monitoring::SDK::log_metric('rows', 3, 'count');
    Monitoring::SDK->log_event('info', 'class-method call');
    end_span($sid, 'success');
    my $mon2 = Monitoring::SDK::init('svc-b', undef, $l2->sockport, @OFF);
    is $mon->state, 'CLOSED', 'a second init() closes the first default client';
    log_event('warn', 'to the second');
    Monitoring::SDK::close();
    is $mon2->state, 'CLOSED', 'Monitoring::SDK::close() closes the default client';
    log_event('info', 'after close: ignored');

    my $a = lines_of($l1);
    is_deeply [map { $_->{type} } @$a], [qw(hello event metric event span goodbye)], 'first client: every call, then goodbye';
    is_deeply [map { $_->{src} } @$a], [('svc-a') x 6], '  as svc-a';
    is_deeply [map { $_->{tid} // '' } grep { $_->{type} !~ /hello|goodbye/ } @$a], [('job-7') x 4], '  in job-7';
    is $a->[4]{data}{status}, 'success', '  end_span status';
    my $b = lines_of($l2);
    is_deeply [map { "$_->{src} $_->{type}" } @$b], ['svc-b hello', 'svc-b event', 'svc-b goodbye'], 'second client';
    is(MonitoringSDK->init('svc-c', '127.0.0.1', 1, @OFF)->{source}, 'svc-c', 'MonitoringSDK->init works as a class method');
    Monitoring::SDK::close(0);
    eval "use Monitoring::SDK qw(no_such_function); 1";
    like $@, qr/does not export 'no_such_function'/, 'an unknown import is an error';
};

subtest 'propagate: %ENV carries the trace, so system() children continue it' => sub {
    my $l = listener();
    my $mon = Monitoring::SDK->new(source => 'queue-service', port => $l->sockport, @OFF);
    ok !exists $ENV{SIGNALBOX_TRACE}, 'nothing before a trace exists';
    my $sid = $mon->start_span('process_job');
    $mon->set_context('job_id', 'job-1');
    is $ENV{SIGNALBOX_TRACE}, "job-1:$sid", 'set_context and start_span: SIGNALBOX_TRACE = job:span';
    my $child = `$^X -e 'print \$ENV{SIGNALBOX_TRACE} // "none"'`;
    is $child, "job-1:$sid", 'a child started with backticks sees it';
    $mon->end_span($sid, 'success');
    is $ENV{SIGNALBOX_TRACE}, 'job-1', 'end_span: the job alone';
    my $s2 = $mon->start_span('process_job');   # started while job-1 is still the context ...
    $mon->set_context('job_id', 'job-2');          # ... and set to the next job before anything is logged
    $mon->log_progress('job-2', 0, 'started');
    $mon->end_span($s2, 'success');
    my $s3 = $mon->start_span('late');
    $mon->log_event('info', 'logged in job-2');    # this fixes the span's trace
    $mon->set_context('job_id', 'job-3');
    $mon->end_span($s3);
    $mon->close;
    ok !exists $ENV{SIGNALBOX_TRACE}, 'close() puts the environment back';
    my %span = map { $_->{data}{name} . ($_->{sid} eq $s2 ? 2 : '') => $_ } grep { $_->{type} eq 'span' } @{lines_of($l)};
    is $span{process_job}{tid}, 'job-1', 'first span in job-1';
    is $span{process_job2}{tid}, 'job-2', 'a span that set_context(job_id) follows before anything was logged under it joins that job';
    is $span{late}{tid}, 'job-2', 'a span with a message logged under it keeps its trace';

    local $ENV{SIGNALBOX_TRACE} = 'outer:0123456789abcdef';
    $mon = Monitoring::SDK->new(source => 'x', port => $l->sockport, propagate => 0, @OFF);
    $mon->set_context('job_id', 'job-9');
    is $ENV{SIGNALBOX_TRACE}, 'outer:0123456789abcdef', 'propagate => 0 leaves %ENV alone';
    $mon->close;
    $mon = Monitoring::SDK->new(source => 'x', port => $l->sockport, @OFF);
    $mon->set_context('job_id', 'job-9');
    is $ENV{SIGNALBOX_TRACE}, 'job-9:0123456789abcdef', 'an inherited parent span stays the parent';
    $mon->close;
    is $ENV{SIGNALBOX_TRACE}, 'outer:0123456789abcdef', 'and the inherited value is back after close()';
    lines_of($l);
};

done_testing;
