#!/usr/bin/perl
# The shared conformance vectors (sdk/conformance/vectors.json, rules in its README.md): each case
# runs against a TCP listener of this test; the lines written are compared field by field.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib", "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use IO::Socket::UNIX;
use IO::Select;
use File::Temp qw(tempdir);
use JSON::PP;
use B ();
use SignalboxTest qw(repo_root);
use Monitoring::SDK;

my $file = repo_root() . '/sdk/conformance/vectors.json';
plan skip_all => "no $file (perl-sdk outside the Signalbox repository)" unless -f $file;
my $vectors = do { open my $fh, '<:raw', $file or die; local $/; JSON::PP->new->utf8->decode(<$fh>) };
is $vectors->{version}, 1, 'vectors version 1';

my @CONTROL = qw(hello heartbeat goodbye);
my %TIMING = map { $_ => 1 } qw(ts start end dur_ms);

for my $case (@{$vectors->{cases}}) {
    subtest $case->{name} => sub { run_case($case) };
}
done_testing;

sub run_case {
    my ($case) = @_;
    my $uds = ($case->{transport} // 'tcp') eq 'uds';
    my $path = $uds && tempdir(CLEANUP => 1) . '/conformance.sock';
    my $listener = $uds ? IO::Socket::UNIX->new(Listen => 5, Local => $path, Type => SOCK_STREAM)
        : IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1', LocalPort => 0, ReuseAddr => 1);
    $listener or die "listen: $!";
    local %ENV = %ENV;
    delete @ENV{qw(SIGNALBOX_TRACE TRACEPARENT SIGNALBOX_SOURCE SIGNALBOX_HOST SIGNALBOX_PORT SIGNALBOX_SOCKET
                   SIGNALBOX_SECRET SIGNALBOX_TLS SIGNALBOX_TLS_CA_FILE SIGNALBOX_TLS_SERVER_NAME)};
    while (my ($k, $v) = each %{$case->{env} // {}}) {
        if (defined $v) { utf8::encode($v); $ENV{$k} = $v } else { delete $ENV{$k} }   # the environment holds bytes
    }
    my %args = (signals => 0, heartbeat_interval => 3600, %{$case->{options} // {}});
    $args{source} = $case->{source} if defined $case->{source};
    if ($uds) { if ($case->{connect_by_env}) { $ENV{SIGNALBOX_SOCKET} = $path } else { $args{socket_path} = $path } }
    elsif ($case->{connect_by_env}) { @ENV{qw(SIGNALBOX_HOST SIGNALBOX_PORT)} = ('127.0.0.1', $listener->sockport) }
    else { @args{qw(host port)} = ('127.0.0.1', $listener->sockport) }
    my $sdk = Monitoring::SDK->new(%args);

    my (%bound, @spans, @envs);
    for my $call (@{$case->{calls}}) {
        my ($name, @a) = @$call;
        @a = map { defined $_ && !ref $_ && !is_num($_) && /^\$s(\d+)$/ ? $spans[$1 - 1] : $_ } @a;
        if    ($name eq 'start_span') { push @spans, $sdk->start_span(@a) }
        elsif ($name eq 'child_env')  { push @envs, $sdk->child_env }
        else                          { $sdk->$name(@a) }
    }
    $sdk->close unless $case->{calls}[-1][0] eq 'close';
    for my $i (0 .. $#spans) {
        like $spans[$i], qr/^[0-9a-f]{16}$/, "start_span #" . ($i + 1) . " returns 16 hex";
        $bound{'$s' . ($i + 1)} = $spans[$i];
    }

    my $got = read_connection($listener);
    my %expected_types = map { $_->{type} // '' => 1 } @{$case->{expect}};
    my @lines = grep { my $t = $_->{type} // ''; $expected_types{$t} || !grep { $_ eq $t } @CONTROL } @$got;
    is scalar @lines, scalar @{$case->{expect}}, 'number of lines'
        or diag explain \@lines;
    for my $i (0 .. $#{$case->{expect}}) {
        my $want = $case->{expect}[$i];
        my $line = $lines[$i] or last;
        ok defined $line->{ts} && $line->{ts} =~ /^\d+$/, "line $i: ts is an integer";
        if (($line->{type} // '') eq 'span') {
            ok is_num($line->{data}{start}), "line $i: data.start numeric";
            ok is_num($line->{data}{end}) || is_num($line->{data}{dur_ms}), "line $i: data.end or dur_ms numeric";
        }
        my @problems;
        compare($want, $line, "line $i", 1, \%bound, \@problems);
        ok !@problems, "line $i matches" or diag join("\n", @problems), "\n", explain $line;
    }
    my $want_env = $case->{expect_env} // [];
    is scalar @envs, scalar @$want_env, 'number of child_env results' if @$want_env;
    for my $i (0 .. $#$want_env) {
        while (my ($k, $v) = each %{$want_env->[$i]}) {
            (my $exp = $v // '') =~ s/(\$[a-z]+\d+)/$bound{$1} \/\/ $1/ge;
            is $envs[$i]{$k}, defined $v ? $exp : undef, "child_env #" . ($i + 1) . " $k";
        }
    }
}

# Everything written on every connection the client opened, until it closes the last one.
sub read_connection {
    my ($listener) = @_;
    my $all = '';
    my $sel = IO::Select->new($listener);
    my $wait = 2;   # the client has connected before close() returned: later ones would be queued too
    while ($sel->can_read($wait)) {
        $wait = 0;
        my $c = $listener->accept or last;
        my $cs = IO::Select->new($c);
        while ($cs->can_read(5)) { my $n = sysread($c, my $buf, 65536); last unless $n; $all .= $buf }
    }
    my $json = JSON::PP->new->utf8;
    return [map { $json->decode($_) } grep { length } split /\n/, $all];
}

sub is_num { my $v = shift; defined $v && !ref $v && (B::svref_2object(\$v)->FLAGS & (B::SVp_IOK | B::SVp_NOK)) }

# Expected vs actual per the vector rules; problems are pushed to @$p.
sub compare {
    my ($want, $got, $path, $top, $bound, $p) = @_;
    if (ref $want eq 'HASH') {
        return push @$p, "$path: not an object" unless ref $got eq 'HASH';
        for my $k (sort keys %$want) {
            if (!defined $want->{$k}) { push @$p, "$path.$k: should be absent" if defined $got->{$k}; next }
            return push @$p, "$path.$k: missing" unless exists $got->{$k};
            compare($want->{$k}, $got->{$k}, "$path.$k", 0, $bound, $p);
        }
        unless ($top) {
            my @extra = grep { !exists $want->{$_} && !$TIMING{$_} } keys %$got;
            push @$p, "$path: unexpected keys @extra" if @extra;
        }
        return;
    }
    if (ref $want eq 'ARRAY') {
        return push @$p, "$path: not a list of " . @$want unless ref $got eq 'ARRAY' && @$got == @$want;
        compare($want->[$_], $got->[$_], "$path\[$_]", 0, $bound, $p) for 0 .. $#$want;
        return;
    }
    if (JSON::PP::is_bool($want)) { push @$p, "$path: boolean" unless JSON::PP::is_bool($got) && $got == $want; return }
    if (is_num($want)) {
        push @$p, "$path: want number $want, got " . ($got // 'null') unless is_num($got) && $got == $want;
        return;
    }
    if ($want =~ /^\$([a-z]+)\d+$/) {
        my $kind = $1;
        return push @$p, "$path: $want must be a string" if !defined $got || ref $got || is_num($got);
        push @$p, "$path: $want must be 16 hex" if $kind eq 's' && $got !~ /^[0-9a-f]{16}$/;
        push @$p, "$path: $want must be 32 hex" if $kind eq 't' && $got !~ /^[0-9a-f]{32}$/;
        if (exists $bound->{$want}) { push @$p, "$path: $want is $bound->{$want}, got $got" if $bound->{$want} ne $got }
        elsif (grep { $_ eq $got } values %$bound) { push @$p, "$path: $want bound to a value another reference has" }
        else { $bound->{$want} = $got }
        return;
    }
    push @$p, "$path: want string '$want', got " . ($got // 'null')
        unless defined $got && !ref $got && !is_num($got) && $got eq $want;
}
