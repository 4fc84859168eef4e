package SignalboxTest;
# Helpers shared by the tests: paths, polling with a deadline, JSON lines, the fake sidecar process
# (sdk/conformance/fake_sidecar.py) and a private copy of the assembled distribution.
use strict;
use warnings;
use Exporter 'import';
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Copy qw(copy);
use File::Find qw(find);
use File::Path qw(make_path);
use File::Spec;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);

our @EXPORT_OK = qw(repo_root poll_until read_lines free_port FakeSidecar Distribution);

my $JSON = JSON::PP->new->utf8;

# perl-sdk/t/lib → the repository root
sub repo_root { abs_path(dirname(__FILE__) . '/../../..') }

# Calls $cond every $interval s until it is true or $timeout s passed; returns its last value.
sub poll_until {
    my ($timeout, $cond, $interval) = @_;
    my $deadline = time + $timeout;
    while (1) {
        my $v = $cond->();
        return $v if $v || time > $deadline;
        sleep($interval // 0.02);
    }
}

# Every line of a file as decoded JSON (lines that are not JSON are returned as {raw => line}).
sub read_lines {
    my ($file) = @_;
    open my $fh, '<:raw', $file or return [];
    my @out;
    while (my $l = <$fh>) {
        chomp $l;
        next unless length $l;
        my $v = eval { $JSON->decode($l) };
        push @out, $v // { raw => $l };
    }
    return \@out;
}

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0, ReuseAddr => 1)
        or die "no free port: $!";
    return $s->sockport;
}

# ---- fake sidecar process ----------------------------------------------------------------------
package FakeSidecar;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);

sub script { SignalboxTest::repo_root() . '/sdk/conformance/fake_sidecar.py' }
sub available { -f script() && system('python3 -c 1 2>/dev/null') == 0 }

# FakeSidecar->start(out => FILE, port => P (0 = free), drop_after => N, dir => TMPDIR)
sub start {
    my ($class, %o) = @_;
    my $pf = "$o{dir}/port." . (++$FakeSidecar::n);
    unlink $pf;
    my @cmd = ('python3', script(), '--port', $o{port} // 0, '--out', $o{out}, '--port-file', $pf,
               '--drop-after', $o{drop_after} // 0,
               map { defined $o{$_} ? ('--' . ($_ =~ tr/_/-/r), $o{$_}) : () } qw(unix tls_cert tls_key secret));
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>', '/dev/null';
        exec @cmd or POSIX::_exit(127);
    }
    my $self = bless { %o, pid => $pid }, $class;
    SignalboxTest::poll_until(20, sub { -s $pf }) or do { $self->stop; die "fake sidecar did not start" };
    open my $fh, '<', $pf or die;
    ($self->{port}) = <$fh> =~ /(\d+)/;
    return $self;
}

sub port { $_[0]{port} }

# SIGTERM and wait for the process (its sockets are closed when this returns).
sub stop {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return;
    kill 'TERM', $pid;
    SignalboxTest::poll_until(10, sub { waitpid($pid, WNOHANG) != 0 }) or do { kill 'KILL', $pid; waitpid $pid, 0 };
}

sub DESTROY { $_[0]->stop }

# ---- a private copy of distribution/target/signalbox ------------------------------------------
package Distribution;
use File::Copy qw(copy);
use File::Find qw(find);
use File::Path qw(make_path);

sub built_at { $ENV{SIGNALBOX_DIST} // SignalboxTest::repo_root() . '/distribution/target/signalbox' }   # SIGNALBOX_DIST: another build
sub available { -x built_at() . '/bin/signalbox' && system('java -version >/dev/null 2>&1') == 0 }

# Copies the distribution into $dir/signalbox (without data/ and log/) and gives it free ports.
sub copy_into {
    my ($class, $dir) = @_;
    my $from = built_at();
    my $home = "$dir/signalbox";
    find({ no_chdir => 1, wanted => sub {
        my $rel = substr($File::Find::name, length $from);
        if ($rel =~ m{^/(data|log)/}) { $File::Find::prune = 1; return }
        if (-d $_) { make_path("$home$rel"); return }
        copy($_, "$home$rel") or die "copy $_: $!";
        chmod((stat $_)[2] & 07777, "$home$rel");
    } }, $from);
    make_path("$home/data", "$home/log");
    my $self = bless { home => $home }, $class;
    $self->{port} = SignalboxTest::free_port();
    $self->_set_port('etc/io.signalbox.transport.tcp.cfg', $self->{port});
    # the HTTP bundle, where the distribution has it: a free port too, so nothing else is disturbed
    $self->{http_port} = SignalboxTest::free_port();
    $self->_set_port('etc/io.signalbox.http.cfg', $self->{http_port}) if -f "$home/etc/io.signalbox.http.cfg";
    return $self;
}

sub _set_port {
    my ($self, $rel, $port) = @_;
    my $f = "$self->{home}/$rel";
    open my $in, '<', $f or die "$f: $!";
    my $text = do { local $/; <$in> };
    close $in;
    $text =~ s/^port\s*=.*$/port=$port/m or $text .= "\nport=$port\n";
    open my $out, '>', $f or die "$f: $!";
    print $out $text;
    close $out;
}

sub home { $_[0]{home} }
sub port { $_[0]{port} }

# Appends lines to a file of etc/ (e.g. auth.secret=... to a transport's .cfg) before start().
sub append_cfg {
    my ($self, $rel, @lines) = @_;
    open my $out, '>>', "$self->{home}/$rel" or die "$rel: $!";
    print $out "\n", map { "$_\n" } @lines;
    close $out;
}

# bin/signalbox <command>; returns (exit code, output).
sub command {
    my ($self, @args) = @_;
    local $ENV{SIGNALBOX_JAVA_OPTS} = '-Xmx256m';
    my $cmd = join ' ', map { quotemeta } "$self->{home}/bin/signalbox", @args;
    my $out = `$cmd 2>&1`;
    return ($? >> 8, $out);
}

sub start {
    my ($self) = @_;
    my ($rc, $out) = $self->command('start');
    die "bin/signalbox start failed: $out" if $rc;
    $self->{started} = 1;
    SignalboxTest::poll_until(60, sub {
        IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $self->{port}, Timeout => 1) ? 1 : 0
    }, 0.1) or die "the sidecar does not listen on $self->{port}; log:\n" . $self->log;
}

sub stop {
    my ($self) = @_;
    return unless $self->{started};
    my ($rc, $out) = $self->command('stop');
    $self->{started} = 0;
    return $rc;
}

sub log { my $f = "$_[0]{home}/log/signalbox.log"; open my $fh, '<', $f or return ''; local $/; <$fh> }

sub DESTROY { $_[0]->stop }

1;
