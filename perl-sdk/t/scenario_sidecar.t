#!/usr/bin/perl
# The common delivery scenario against the real sidecar: a private copy of the assembled
# distribution (distribution/target/signalbox) on a free port, stopped and started again while the
# SDK logs; what the file backend wrote under data/files/ is checked.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib", "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use SignalboxTest qw(poll_until read_lines);
use Monitoring::SDK;

plan skip_all => 'the distribution is not built (' . Distribution::built_at() . '; build it with '
    . '"mvn -B -q -o package -DskipTests -pl distribution -am") or no java on the PATH' unless Distribution->available;

my $dir = tempdir(CLEANUP => 1);
my $dist = Distribution->copy_into($dir);
$dist->start;
my $SRC = 'perl-scenario';
my $BOUND = 100;
my $sdk = Monitoring::SDK->new(source => $SRC, port => $dist->port, signals => 0, buffer_size => $BOUND,
    reconnect_min => 0.05, reconnect_max => 0.5, heartbeat_interval => 3600);
$sdk->set_context(job_id => 'scenario-1');

# 1. up: 1..50
my $n = 0;
$sdk->span(phase1 => sub { $sdk->log_event(info => 'n=' . ++$n) for 1 .. 50 });
ok poll_until(10, sub { $sdk->poll; $sdk->buffered == 0 }), 'phase 1: written';

# 2. stopped (graceful): 51..130 are buffered, delivered after the start
is $dist->stop, 0, 'bin/signalbox stop';
$sdk->log_event(info => 'n=' . ++$n) for 1 .. 80;
is $sdk->buffered, 80, 'phase 2: 80 buffered while the sidecar is down';
$dist->start;
ok poll_until(60, sub { $sdk->poll; $sdk->buffered == 0 }, 0.05), 'phase 2: replayed after the start';

# 3. stopped again: 150 messages with a bound of 100
is $dist->stop, 0, 'bin/signalbox stop';
my $first_over = $n + 1;
$sdk->log_event(info => 'n=' . ++$n) for 1 .. 150;
is $sdk->state, 'OVERFLOW', 'phase 3: OVERFLOW';
is $sdk->dropped, 50, 'phase 3: 50 dropped';
$dist->start;
ok poll_until(60, sub { $sdk->poll; $sdk->buffered == 0 }, 0.05), 'phase 3: replayed after the start';
$sdk->close;
is $dist->stop, 0, 'bin/signalbox stop (flushes every buffer to the files)';

my @lines = map { @{read_lines($_)} } sort glob($dist->home . "/data/files/$SRC/*.jsonl");
my @n = map { $_->{data}{msg} =~ /^n=(\d+)$/ ? $1 : () } grep { $_->{type} eq 'event' } @lines;
is_deeply \@n, [1 .. 130, $first_over .. $first_over + $BOUND - 1],
    'the file backend has 1..130 and the oldest 100 of the overflow, in order, once'
    or diag "got @n\nthe sidecar's log, what each run received and wrote:\n"
        . join('', grep { /stopped:|closed:|not drained|unrouted|rejected|ERROR/ } split /^/m, $dist->log);
my ($bye) = grep { $_->{type} eq 'goodbye' } @lines;
is_deeply $bye && $bye->{data}, { sent => 231, dropped => 50 }, 'goodbye: sent 231 (230 events, 1 span), dropped 50';
my ($span) = grep { $_->{type} eq 'span' } @lines;
is $span && $span->{tid}, 'scenario-1', 'the span is in the job\'s trace';
is((grep { ($_->{sid} // '') eq $span->{sid} && $_->{type} eq 'event' } @lines) + 0, 50,
    'phase 1 events carry the span id');
done_testing;
