#!/usr/bin/perl
# The common delivery scenario against sdk/conformance/fake_sidecar.py: connections dropped after
# N lines, the sidecar down for a while (in-order replay within the bound), then down for longer
# than the bound (exactly K - bound dropped, reported in heartbeat and goodbye).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib", "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep);
use SignalboxTest qw(poll_until read_lines);
use Monitoring::SDK;

plan skip_all => 'needs python3 and sdk/conformance/fake_sidecar.py' unless FakeSidecar->available;

my $dir = tempdir(CLEANUP => 1);
my $out = "$dir/lines.ldjson";
my $BOUND = 100;

my $fake = FakeSidecar->start(dir => $dir, out => $out, drop_after => 25);
my $port = $fake->port;
my $sdk = Monitoring::SDK->new(source => 'scenario', host => '127.0.0.1', port => $port, signals => 0,
    buffer_size => $BOUND, reconnect_min => 0.01, reconnect_max => 0.05, heartbeat_interval => 3600);

# ---- 1. the server drops every connection after 25 lines ---------------------------------------
my $n = 0;
for (1 .. 200) { $sdk->log_event(info => 'n=' . ++$n); sleep 0.002 }
ok poll_until(10, sub { $sdk->poll; $sdk->buffered == 0 }), 'phase 1: everything handed to the sidecar';
ok poll_until(10, sub { my ($s) = messages($out); @$s && $s->[-1] == $n }), 'phase 1: the last one recorded';
is $sdk->dropped, 0, 'phase 1: nothing dropped by the SDK';
my ($seq, $conns) = messages($out);
cmp_ok $conns, '>=', 5, "phase 1: the server dropped connections ($conns connections)";
ok increasing($seq), 'phase 1: in order, no duplicates';
my @gaps = gaps($out);
ok !grep({ !$_->{after_reconnect} } @gaps), 'phase 1: messages missing only where a connection broke'
    or diag explain \@gaps;
my $lost = 0; $lost += $_->{missing} for @gaps;
diag "phase 1: $lost of 200 messages were in flight when the server dropped a connection";

# ---- 2. the server is down; fewer messages than the bound are logged; it comes back -----------
$fake->stop;
my $first_down = $n + 1;
$sdk->log_event(info => 'n=' . ++$n) for 1 .. 80;
is $sdk->buffered, 80, 'phase 2: 80 messages buffered while the sidecar is down';
isnt $sdk->state, 'CONNECTED', 'phase 2: state is not CONNECTED (' . $sdk->state . ')';
$fake = FakeSidecar->start(dir => $dir, out => $out, port => $port);
ok poll_until(10, sub { $sdk->poll; $sdk->buffered == 0 }), 'phase 2: replayed after the sidecar came back';
is $sdk->state, 'CONNECTED', 'phase 2: CONNECTED again';
poll_until(10, sub { my ($s) = messages($out); @$s && $s->[-1] == $n });
($seq) = messages($out);
is_deeply [grep { $_ >= $first_down } @$seq], [$first_down .. $n], 'phase 2: all 80 delivered, in order, once';

# ---- 3. down again, 150 messages with a bound of 100 -------------------------------------------
$fake->stop;
my $first_over = $n + 1;
$sdk->log_event(info => 'n=' . ++$n) for 1 .. 150;
is $sdk->state, 'OVERFLOW', 'phase 3: OVERFLOW';
is $sdk->buffered, $BOUND, 'phase 3: the buffer holds the bound';
is $sdk->dropped, 50, 'phase 3: exactly 150 - 100 dropped';
$fake = FakeSidecar->start(dir => $dir, out => $out, port => $port);
ok poll_until(10, sub { $sdk->poll; $sdk->buffered == 0 }), 'phase 3: replayed';
$sdk->close;
ok poll_until(10, sub { my $l = read_lines($out); @$l && $l->[-1]{type} eq 'goodbye' }), 'goodbye recorded';
$fake->stop;
($seq) = messages($out);
is_deeply [grep { $_ >= $first_over } @$seq], [$first_over .. $first_over + $BOUND - 1],
    'phase 3: the oldest 100 delivered in order, the 50 newest refused';
my @all = @{read_lines($out)};
my ($hb) = grep { $_->{type} eq 'heartbeat' } @all;
is $hb && $hb->{data}{dropped}, 50, 'phase 3: a heartbeat after the reconnect reports dropped=50';
ok !exists $hb->{tid} && !exists $hb->{ctx}, 'heartbeat carries no trace or context' if $hb;
my $bye = $all[-1];
is $bye->{type}, 'goodbye', 'the last line is goodbye';
is $bye->{data}{dropped}, 50, 'goodbye: dropped=50';
is $bye->{data}{sent}, $n - 50, 'goodbye: sent counts every message written to a socket';
is((grep { $_->{type} eq 'hello' } @all) + 0, $conns + 2, 'hello opens every connection');
done_testing;

# The message numbers in arrival order, and the number of connections (hello lines).
sub messages {
    my @n; my $hellos = 0;
    for my $l (@{read_lines($_[0])}) {
        $hellos++ if ($l->{type} // '') eq 'hello';
        push @n, $1 if ($l->{type} // '') eq 'event' && $l->{data}{msg} =~ /^n=(\d+)$/;
    }
    return (\@n, $hellos);
}

sub increasing { my $s = shift; for (1 .. $#$s) { return 0 unless $s->[$_] > $s->[$_ - 1] } 1 }

# Every place where numbers are missing, and whether a new connection started right there.
sub gaps {
    my (@g, $prev, $hello);
    for my $l (@{read_lines($_[0])}) {
        if (($l->{type} // '') eq 'hello') { $hello = 1; next }
        next unless ($l->{type} // '') eq 'event' && $l->{data}{msg} =~ /^n=(\d+)$/;
        my $m = $1;
        push @g, { after => $prev, next => $m, missing => $m - $prev - 1, after_reconnect => $hello }
            if defined $prev && $m != $prev + 1;
        ($prev, $hello) = ($m, 0);
    }
    return @g;
}
