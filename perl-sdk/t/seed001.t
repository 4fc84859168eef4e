#!/usr/bin/perl
# 001's use case run as the document writes it: its four Perl programs (config-service,
# file-receiver, queue-service and the db-loader script, copied verbatim into t/seed001/ with only
# their application functions stubbed) against a private copy of the assembled sidecar. The only
# substitution: "tcp_port => 17000" becomes the free port the copy listens on. The messages must
# arrive, and each job must form one trace, as 001's "Unified View" shows it:
#
#   job-12345:
#     ├─ file-receiver: File received, validated, queued
#     ├─ queue-service: Job dequeued, processing started
#     └─ db-loader: Data loaded, 10,000 rows inserted
#
# checked through the sidecar's HTTP API (/api/traces/<job id>) and in the file backend's JSONL.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib", "$FindBin::Bin/lib";
use Test::More;
use Cwd qw(abs_path);
use Digest::SHA qw(sha1_hex);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use JSON::PP;
use SignalboxTest qw(repo_root poll_until read_lines);

my $SEED = "$FindBin::Bin/seed001";
my @PROGRAMS = qw(config-service.pl file-receiver.pl queue-service.pl db_loader.pl);
# SHA-1 of each program's part below the marker: the document's text, pinned for when the
# document itself is not at hand (SIGNALBOX_SEEDS, or ../shared/seeds next to the repository)
my %SHA1 = ('config-service.pl' => '3b52aa5106d1440afa8b80ecc0941fcaaf373d19', 'file-receiver.pl' => 'e76599b3a4bfe6c65d4950ac2a36ce2b3b1175ae',
            'queue-service.pl' => 'd1e7f67dd69bb64f99400af9d80b8dd7f421dfea', 'db_loader.pl' => '08630a61ca0e36b8445995d66d04c66b622e88e2');
my $MARK = "# ---- 001, verbatim from here (t/seed001.t checks it against the document) ----\n";

sub slurp { my $f = shift; open my $fh, '<:raw', $f or die "$f: $!"; local $/; <$fh> }
sub verbatim { my $t = slurp("$SEED/$_[0]"); my $i = index($t, $MARK); $i < 0 ? die "no marker in $_[0]" : substr($t, $i + length $MARK) }

subtest 'the programs are 001\'s code' => sub {
    my ($doc) = glob(($ENV{SIGNALBOX_SEEDS} // repo_root() . '/../shared/seeds') . '/001_*.txt');
    my $text = $doc && slurp($doc);
    for my $p (@PROGRAMS) {
        my $code = verbatim($p);
        is sha1_hex($code), $SHA1{$p}, "$p: unchanged since it was copied";
        SKIP: {
            skip 'the design document 001 is not at hand (set SIGNALBOX_SEEDS)', 1 unless $text;
            ok index($text, "```perl\n$code```") >= 0, "$p: the text of one of 001's Perl blocks, whole";
        }
        is(() = $code =~ /tcp_port => 17000\b/g, 1, "$p: one tcp_port => 17000 to substitute");
    }
};

unless (Distribution->available) {   # the check above still ran
    SKIP: { skip 'running them: the distribution is not built (' . Distribution::built_at() . '; build it with '
        . '"mvn -B -q package -DskipTests") or no java on the PATH', 1 }
    done_testing;
    exit 0;
}

my $dir = tempdir(CLEANUP => !$ENV{SEED001_DEBUG});
my $dist = Distribution->copy_into($dir);
$dist->start;

# the work area: the programs (port substituted), the config, the received files
my $work = "$dir/work";
mkdir $work or die;
for my $p (@PROGRAMS) {
    my $text = slurp("$SEED/$p");
    my $at = index($text, $MARK) + length $MARK;
    (my $code = substr($text, $at)) =~ s/tcp_port => 17000\b/'tcp_port => ' . $dist->port/e or die;
    open my $out, '>', "$work/$p" or die; print $out substr($text, 0, $at), $code; close $out or die;
}
my %rows = (orders => 120, customers => 7, invoices => 35);   # valid files and their data rows
write_file("$work/app.conf", "# the demo application's settings\nqueue = queue\ndb = db\ncolumns = 3\n");
write_file("$work/incoming/$_.csv", "id,name,amount\n" . join('', map { "$_,item $_,$_.50\n" } 1 .. $rows{$_})) for keys %rows;
write_file("$work/incoming/broken.csv", "id,name,amount\n1,only two\n");

delete local @ENV{qw(SIGNALBOX_TRACE TRACEPARENT SIGNALBOX_SOURCE SIGNALBOX_PORT SIGNALBOX_HOST
                     MONITORING_TCP_HOST MONITORING_TCP_PORT)};
local $ENV{PERL5LIB} = join ':', "$SEED/lib", abs_path("$FindBin::Bin/../lib"), $ENV{PERL5LIB} // ();
chdir $work or die;
run('config-service.pl', 'app.conf');
run('file-receiver.pl', "incoming/$_.csv") for sort(keys %rows), 'broken';
run('queue-service.pl');   # runs db_loader.pl for each job with system(), as 001 writes it
is_deeply [glob 'queue/*'], [], 'the queue is empty';
is count_lines("db/$_.tsv"), $rows{$_}, "db/$_.tsv has the $rows{$_} rows" for sort keys %rows;
chdir '/';

# ---- the trace of each job, from the HTTP API ------------------------------------------------
my $http = HTTP::Tiny->new(timeout => 10);
my $api = "http://127.0.0.1:$dist->{http_port}";
my $json = JSON::PP->new->utf8;
sub api { my $r = $http->get("$api$_[0]"); $r->{success} ? $json->decode($r->{content}) : undef }

sub listed { my $l = api('/api/traces?source=file-receiver&limit=100'); $l ? $l->{traces} : [] }   # {"traces": [...]}
my $listed = poll_until(30, sub { @{listed()} >= 4 }, 0.2) ? listed() : listed();
my @jobs = sort map { $_->{trace_id} } @$listed;
is scalar @jobs, 4, 'four traces with file-receiver: one per received file' or diag explain $listed;

my (%trace_of_file, @valid);
for my $job (@jobs) {
    # complete once every program has closed, so wait for the span of db-loader where there is one
    my $t = poll_until(30, sub { my $t = api("/api/traces/$job"); $t && ($t->{span_count} == 2 || $t->{span_count} == 0 && (grep { $_->{source} eq 'file-receiver' } @{$t->{by_source}})) ? $t : undef }, 0.2);
    my $file = first_file($t);
    $trace_of_file{$file // '?'} = $t;
}

for my $name (sort keys %rows) {
    my $t = $trace_of_file{"incoming/$name.csv"};
    ok $t, "incoming/$name.csv: a trace" or next;
    my $job = $t->{trace_id};
    is_deeply [sort @{$t->{sources}}], [qw(db-loader file-receiver queue-service)], "$job: file-receiver, queue-service and db-loader";
    is scalar @{$t->{roots}}, 1, "$job: one root span";
    my $root = $t->{roots}[0] // {};
    is "$root->{source} $root->{name} $root->{status}", 'queue-service process_job success', "$job: the root is queue-service's process_job";
    my @kids = @{$root->{children} // []};
    is scalar @kids, 1, "$job: it has one child span";
    my $load = $kids[0] // {};
    is "$load->{source} $load->{name} $load->{status}", 'db-loader load_data success', "$job: db-loader's load_data, started by system() from process_job";
    is $load->{parent_span_id}, $root->{span_id}, "$job: whose parent is process_job";
    is_deeply [map { $_->{data}{msg} } @{$load->{events}}], ['Starting DB load'], "$job: load_data's event";
    my ($rl) = grep { ($_->{data}{name} // '') eq 'rows_loaded' } @{$load->{metrics}};
    is $rl && $rl->{data}{value}, $rows{$name}, "$job: rows_loaded = $rows{$name}";
    is_deeply [map { $_->{data}{msg} } grep { $_->{source} eq 'file-receiver' } @{$t->{events}}], ['Received file', 'File queued'],
        "$job: file-receiver's events (outside any span: 001 opens none there)";
}
my $bad = $trace_of_file{'incoming/broken.csv'};
ok $bad, 'incoming/broken.csv: a trace';
is_deeply $bad && [map { "$_->{data}{level} $_->{data}{msg}" } @{$bad->{events}}], ['info Received file', 'error Invalid file'],
    'the broken file: received, then "Invalid file", and nothing else in its trace';
is_deeply $bad && $bad->{sources}, ['file-receiver'], '  only file-receiver';

# ---- every message, in the file backend ------------------------------------------------------
is $dist->stop, 0, 'bin/signalbox stop (flushes every buffer to the files)';
diag `find $dir -path "*felix-cache*" -prune -o -type f -print | grep -v cds; grep -E "TcpTransport|FileBackend " $dir/signalbox/log/signalbox.log` if $ENV{SEED001_DEBUG};
my %src = map { my $s = $_; $s => [map { @{read_lines($_)} } sort glob($dist->home . "/data/files/$s/*.jsonl")] }
    qw(config-service file-receiver queue-service db-loader);
my %types = map { my $s = $_; $s => join(' ', map { $_->{type} } @{$src{$s}}) } keys %src;
is $types{'config-service'}, 'hello event metric event goodbye', 'config-service: its two events and metric, then goodbye at exit';
is scalar(grep { defined $_->{tid} } @{$src{'config-service'}}), 0, '  in no trace: 001\'s config-service has no job';
my ($kb) = grep { $_->{type} eq 'metric' } @{$src{'config-service'}};
is $kb && $kb->{data}{value}, length(slurp("$work/app.conf")) / 1024, '  config_size_kb of app.conf';
# runs of one program at the same time may interleave in the file: counted per type, ordered per job below
is_deeply count_types('file-receiver'), { hello => 4, event => 8, metric => 4, goodbye => 4 }, 'file-receiver: 4 runs, 2 events and 1 metric each';
is $types{'queue-service'}, 'hello ' . join(' ', ('progress progress span metric') x 3) . ' goodbye', 'queue-service: per job 2 progress, the span, the metric';
is_deeply count_types('db-loader'), { hello => 3, event => 3, metric => 3, resource => 3, span => 3, goodbye => 3 }, 'db-loader: 3 runs';
my @jobs_in_files = map { $_->{trace_id} } grep { $_->{span_count} } values %trace_of_file;
for my $job (sort @jobs_in_files) {
    my @l = grep { ($_->{tid} // '') eq $job } map { @{$src{$_}} } qw(file-receiver queue-service db-loader);
    my %n;
    $n{$_->{src}}++ for @l;
    is_deeply \%n, { 'file-receiver' => 3, 'queue-service' => 4, 'db-loader' => 4 }, "$job: every message of the job carries its tid (3 + 4 + 4)";
    is join(' ', map { "$_->{src}:$_->{type}" } @l),
        join(' ', map { "file-receiver:$_" } qw(event metric event)) . ' ' . join(' ', map { "queue-service:$_" } qw(progress progress span metric))
        . ' ' . join(' ', map { "db-loader:$_" } qw(event metric resource span)), "$job: in the order each program logged them";
}
my ($res) = grep { $_->{type} eq 'resource' } @{$src{'db-loader'}};
ok $res && defined $res->{data}{cpu} && $res->{data}{mem} > 0, 'log_resource(cpu_percent(), memory_mb(), disk_io_mb()) arrived';
done_testing;

sub run {
    my ($program, @args) = @_;
    my $out = `$^X $program @args 2>&1`;
    is $?, 0, "$program @args: exit 0" or diag $out;
    is $out, '', "$program @args: no output, no warning";
}
sub write_file {
    my ($f, $text) = @_;
    (my $d = $f) =~ s{/[^/]*$}{};
    mkdir $d unless -d $d;
    open my $fh, '>', $f or die "$f: $!"; print $fh $text; close $fh or die "$f: $!";
}
sub count_types { my %n; $n{$_->{type}}++ for @{$src{$_[0]}}; \%n }
sub count_lines { open my $fh, '<', $_[0] or return -1; my $n = () = <$fh>; $n }
sub first_file {
    my ($t) = @_;
    for my $e (@{$t->{events} // []}) { return $e->{data}{ctx}{filename} if $e->{data}{ctx} && $e->{data}{ctx}{filename} }
    return undef;
}
