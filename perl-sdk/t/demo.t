#!/usr/bin/perl
# examples/run_demo.sh end to end: it starts a copy of the distribution, runs the four programs,
# shows one job's trace across all of them, prints where the data landed, and leaves nothing running.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib", "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use SignalboxTest qw(repo_root read_lines);

my $script = repo_root() . '/examples/run_demo.sh';
plan skip_all => "no $script (perl-sdk outside the Signalbox repository)" unless -f $script;
plan skip_all => 'the distribution is not built (' . Distribution::built_at() . '; build it with '
    . '"mvn -B -q -o package -DskipTests -pl distribution -am") or no java on the PATH' unless Distribution->available;

my $dir = tempdir(CLEANUP => 1);
delete local @ENV{qw(SIGNALBOX_TRACE TRACEPARENT SIGNALBOX_SOURCE SIGNALBOX_PORT SIGNALBOX_HOST)};
local $ENV{DEMO_DIR} = $dir;
my $out = `bash $script 2>&1`;
my $rc = $? >> 8;
is $rc, 0, 'run_demo.sh exits 0' or diag $out;

my ($job) = $out =~ /^queued (job-orders-2-\S+)/m;
ok $job, "file-receiver queued the orders-2 job ($job)";
like $out, qr/^\Q$job\E: file-receiver .* (?:→|->) queue-service .* (?:→|->) db-loader .* (?:→|->) config-service /m,
    'the trace summary spans the four programs';
my $dist = Distribution::built_at();
my $cli = -f "$dist/etc/io.signalbox.http.cfg" && do { open my $f, '<', "$dist/bin/signalbox"; local $/; <$f> =~ /trace ID/ };
like $out, $cli ? qr/^== the trace of \S+: bin\/signalbox trace/m : qr/^== the trace of \S+, read from the file backend/m,
    'the trace is shown through ' . ($cli ? 'bin/signalbox trace' : 'the file backend (this distribution has no trace command)');
like $out, qr/\bload\b.*\[db-loader\]/, 'the tree shows db-loader\'s load span';
like $out, qr/parse-config.*\[config-service\]/, 'and config-service\'s span';
like $out, qr/app\/db\/orders\.tsv\s+110 rows/, 'orders: 30 + 80 rows loaded';
like $out, qr/app\/db\/customers\.tsv\s+12 rows/, 'customers: 12 rows (the broken row skipped)';
like $out, qr/no table for invoices-1\.csv/, 'the invoices job failed, as intended';

my $files = "$dir/signalbox/data/files";
my %src = map { $_ => read_lines(glob("$files/$_/*.jsonl")) } qw(config-service file-receiver queue-service db-loader);
ok scalar @{$src{$_}}, "the file backend has lines of $_" for sort keys %src;
my @job = grep { ($_->{tid} // '') eq ($job // '') } map { @$_ } values %src;
my %span = map { $_->{sid} => $_ } grep { $_->{type} eq 'span' } @job;
my @orphans = grep { defined $_->{pid} && !$span{$_->{pid}} } values %span;
is scalar @orphans, 0, 'every span of the job has its parent in the same trace';
is scalar(grep { !defined $_->{pid} } values %span), 1, 'one root span (file-receiver\'s receive)';
my ($err) = grep { $_->{type} eq 'event' && $_->{data}{level} eq 'error' } @{$src{'queue-service'}};
like $err && $err->{tid}, qr/^job-invoices-1-/, 'the loader failure is an error event in the invoices job\'s trace';
is scalar(grep { $_->{type} eq 'goodbye' } map { @$_ } values %src), 2 + 4 + 4 * 2,
    'every program said goodbye (file-receiver, queue-service, 4 db-loaders, 8 config-service runs)';

ok !-e "$dir/signalbox/data/signalbox.pid", 'the sidecar was stopped (no pid file)';
my @left = grep { index(cmdline($_), $dir) >= 0 } glob('/proc/[0-9]*');
is scalar @left, 0, 'no process of the demo is left' or diag "@left";
done_testing;

sub cmdline { open(my $f, '<', "$_[0]/cmdline") or return ''; local $/; return <$f> // '' }
