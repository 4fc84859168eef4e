#!/usr/bin/perl
# The real sidecar with a shared secret (auth.secret in etc/io.signalbox.transport.tcp.cfg and
# .uds.cfg of a private copy of distribution/target/signalbox): the right secret delivers every
# message over TCP and over the Unix domain socket; a wrong one delivers nothing, and the SDK says
# so (warning, auth_failures, last_error) and keeps the messages.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib", "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes ();
use SignalboxTest qw(poll_until read_lines);
use Monitoring::SDK;

plan skip_all => 'the distribution is not built (' . Distribution::built_at() . '; build it with '
    . '"mvn -B -q package -DskipTests -pl distribution -am") or no java on the PATH' unless Distribution->available;
plan skip_all => 'this distribution has no Unix domain socket transport'
    unless -f Distribution::built_at() . '/etc/io.signalbox.transport.uds.cfg';
$SIG{ALRM} = sub { BAIL_OUT('security_sidecar.t did not finish within 180 s') };
alarm 180;
delete @ENV{grep { /^SIGNALBOX_/ } keys %ENV};

my $SECRET = 'perl-sidecar-secret-0123456789abcdef';
my $dir = tempdir(CLEANUP => 1);
my $dist = Distribution->copy_into($dir);
$dist->append_cfg($_, "auth.secret=$SECRET") for qw(etc/io.signalbox.transport.tcp.cfg etc/io.signalbox.transport.uds.cfg);
$dist->start;
my $sock = $dist->home . '/data/signalbox.sock';
ok poll_until(30, sub { -S $sock }, 0.1), 'the Unix domain socket is there' or diag $dist->log;
my @OFF = (signals => 0, heartbeat_interval => 3600, reconnect_min => 0.05, reconnect_max => 0.3);

sub warnings_of { my $code = shift; my @w; local $SIG{__WARN__} = sub { push @w, $_[0] }; $code->(); return @w }
sub events_of {
    my ($src) = @_;
    [map { $_->{data}{msg} } grep { $_->{type} eq 'event' } map { @{read_lines($_)} } sort glob($dist->home . "/data/files/$src/*.jsonl")];
}

# the wrong secret first: its client stays open (and retrying) while the right ones deliver
my $wrong;
my @w = warnings_of(sub {
    $wrong = Monitoring::SDK->new(source => 'perl-wrong', port => $dist->port, secret => 'not-the-secret', @OFF);
    $wrong->log_event(info => "wrong $_") for 1 .. 20;
    my $until = Time::HiRes::time() + 2;
    while (Time::HiRes::time() < $until) { $wrong->poll; Time::HiRes::sleep(0.02) }
});
cmp_ok $wrong->auth_failures, '>=', 1, 'wrong secret: auth_failures';
is $wrong->last_error, 'bad_secret', 'wrong secret: last_error bad_secret';
is scalar(@w), 1, 'wrong secret: one warning' or diag "@w";
like $w[0] // '', qr/the sidecar at 127\.0\.0\.1:\d+ refused the connection: unauthorized \(bad_secret\); (?:[1-9]|1[0-9]|20) messages kept/,  # as many as were buffered when the verdict came
    'wrong secret: the warning';
unlike "@w", qr/not-the-secret/, 'the secret is not in the warning';
is $wrong->buffered, 20, 'wrong secret: the messages are kept in the buffer';

my $tcp = Monitoring::SDK->new(source => 'perl-tcp', port => $dist->port, secret => $SECRET, @OFF);
my $uds = do { local $ENV{SIGNALBOX_SOCKET} = $sock; local $ENV{SIGNALBOX_SECRET} = $SECRET; Monitoring::SDK->new(source => 'perl-uds', @OFF) };
is $uds->socket_path, $sock, 'SIGNALBOX_SOCKET used';
for my $i (1 .. 300) { $tcp->log_event(info => "tcp $i"); $uds->log_event(info => "uds $i") }
ok $tcp->flush(10), 'tcp: flushed';
ok $uds->flush(10), 'uds: flushed';
$_->close for $tcp, $uds;
is $tcp->auth_failures + $uds->auth_failures, 0, 'the right secret: no refusal';
$wrong->close(0);
is $dist->stop, 0, 'bin/signalbox stop (flushes the file backend)';

is_deeply events_of('perl-tcp'), [map { "tcp $_" } 1 .. 300], 'TCP with the secret: all 300, in order, once';
is_deeply events_of('perl-uds'), [map { "uds $_" } 1 .. 300], 'Unix domain socket with the secret: all 300, in order, once';
is_deeply events_of('perl-wrong'), [], 'wrong secret: nothing arrived';
my @hellos = grep { $_->{type} eq 'hello' } map { @{read_lines($_)} } glob($dist->home . '/data/files/*/*.jsonl');
is_deeply \@hellos, [], 'no hello (it carries the secret) was stored';
unlike $dist->log, qr/\Q$SECRET\E/, 'the secret is not in the sidecar log';
done_testing;
