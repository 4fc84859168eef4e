package Monitoring::SDK;
# Signalbox SDK for Perl: wire protocol v1 (one JSON object per line) over one persistent TCP
# (optionally TLS) or Unix domain socket connection to the sidecar. Send-only; never blocks or dies in the caller because of the network.
# Perl has no background thread here: reconnects, heartbeats and writes happen inside the calls
# (and in poll() for programs that go quiet). See README.md.
use 5.010;
use strict;
use warnings;
use IO::Socket::INET ();
use IO::Socket::UNIX ();
use Socket qw(SOL_SOCKET SO_ERROR SOCK_STREAM inet_aton pack_sockaddr_in pack_sockaddr_un);
use Errno qw(EAGAIN EWOULDBLOCK EINPROGRESS EINTR);
use Scalar::Util qw(looks_like_number weaken);
use Time::HiRes ();
use Carp ();

our $VERSION = '1.2.0';   # 1.2: socket_path, secret, tls (issue 14); 1.1: tcp_host/tcp_port, init(), propagate
my $NOSIGNAL = eval { Socket::MSG_NOSIGNAL() } || 0;   # a closed connection gives EPIPE, not SIGPIPE
my $CHUNK    = 65536;                                   # bytes handed to one send() at most
# coalesce => 1 (Linux TCP_CORK): the kernel sends full segments, and what is left at most 200 ms
# later by itself; a send() then rarely wakes the sidecar: calls get cheaper, but up to 200 ms of
# messages wait in the kernel, lost if the connection breaks meanwhile. Off by default.
my $CORK = eval { Socket::TCP_CORK() };
my $VERDICT_MS = 500;   # with a secret: how long a new connection waits for a refusal before writing messages
my $REPORT_EVERY = 60;  # s: the same complaint (refusal, TLS failure) is logged at most this often
my %ESC = (map({ (chr($_) => sprintf('\u%04x', $_)) } 0 .. 31),
           '"' => '\"', '\\' => '\\\\', "\n" => '\n', "\r" => '\r', "\t" => '\t');
my %LIVE;                                               # open clients, closed by the signal handlers
our ($BUSY, $PENDING) = (0);                            # inside socket I/O; a signal that came meanwhile
my ($prefix, $prefix_pid, $counter) = (0, -1, 0);       # span ids: per-process random prefix + counter

# ---- construction ----------------------------------------------------------------------------
# Every option new() understands. tcp_host / tcp_port are the design documents' names for host / port.
our @OPTIONS = qw(source host port tcp_host tcp_port buffer_size heartbeat_interval reconnect_min
                  reconnect_max close_timeout max_line coalesce signals propagate
                  socket_path secret tls ca_file server_name);
my %OPTION = map { $_ => 1 } @OPTIONS;
my $DEFAULT;                                            # the client of init() and the module-level calls

# init(source, host, port, %options): the contract's init. Creates (replacing and closing a
# previous one) the process's default client, which the module-level calls use, and returns it.
# Works as a function (Monitoring::SDK::init(...), or imported) and as a class method.
sub init {
    my $class = _is_class($_[0]) ? shift : __PACKAGE__;
    my ($source, $host, $port, %o) = @_;
    my $old = $DEFAULT;
    $DEFAULT = $class->new(%o, (defined $source ? (source => $source) : ()),
        (defined $host ? (host => $host) : ()), (defined $port ? (port => $port) : ()));
    $old->close if $old && $old != $DEFAULT;
    return $DEFAULT;
}

# The default client: the one of the last init(), else one made from the environment on first use.
sub get_client { $DEFAULT //= __PACKAGE__->new }

# use Monitoring::SDK qw(init log_event ...) or qw(:all): the contract's calls as functions on the
# default client. :all leaves out close (imported, it would replace the builtin close in the caller);
# Monitoring::SDK::close() closes the default client.
my @FUNCTIONS = qw(init get_client log_event log_metric log_progress log_resource start_span end_span
                   set_context span child_env export_trace continue_trace poll flush);
my %EXPORTABLE = map { $_ => 1 } @FUNCTIONS, 'close';
sub import {
    my ($class, @names) = @_;
    my $to = caller;
    @names = map { $_ eq ':all' ? @FUNCTIONS : $_ } @names;
    for my $n (@names) {
        Carp::croak("Monitoring::SDK does not export '$n' (it exports: :all @FUNCTIONS close)")
            unless $EXPORTABLE{$n};
        no strict 'refs';
        *{"${to}::$n"} = \&{"Monitoring::SDK::$n"};
    }
}

sub _is_class { defined $_[0] && !ref $_[0] && UNIVERSAL::isa($_[0], __PACKAGE__) }
# A call without an object (function or class-method style) goes to the default client.
sub _self { my $a = shift; shift @$a if _is_class($a->[0]); return get_client() }

sub new {
    my ($class, %o) = @_;
    if (my @unknown = sort grep { !$OPTION{$_} } keys %o) {
        Carp::carp("$class->new: unknown option" . (@unknown > 1 ? 's ' : ' ')
            . join(', ', map { "'$_'" } @unknown) . ' ignored; known options: ' . join(', ', @OPTIONS));
    }
    my $source = $o{source} // _env('SIGNALBOX_SOURCE') // do { (my $n = $0) =~ s{.*/}{}; $n || 'perl' };
    my $host = _pick('host', [$o{host}, 'host'], [$o{tcp_host}, 'tcp_host'], [_env('SIGNALBOX_HOST'), 'SIGNALBOX_HOST'],
        [_env('MONITORING_TCP_HOST'), 'MONITORING_TCP_HOST'], ['127.0.0.1', 'the default']);
    my $port = _pick('port', [$o{port}, 'port'], [$o{tcp_port}, 'tcp_port'], [_env('SIGNALBOX_PORT'), 'SIGNALBOX_PORT'],
        [_env('MONITORING_TCP_PORT'), 'MONITORING_TCP_PORT'], [17000, 'the default']);
    # socket_path, else host/port arguments (TCP), else SIGNALBOX_SOCKET, else SIGNALBOX_HOST/PORT
    my $tcp_args = grep { defined $o{$_} } qw(host port tcp_host tcp_port);
    my $socket = $o{socket_path} // ($tcp_args ? undef : _env('SIGNALBOX_SOCKET'));
    $socket = undef if defined $socket && !length $socket;
    my $ca = $o{ca_file} // _env('SIGNALBOX_TLS_CA_FILE');
    my $tls = _bool($o{tls} // _env('SIGNALBOX_TLS') // (defined $ca ? 1 : 0));
    if ($tls && defined $socket) {
        Carp::carp("$class->new: TLS is for TCP; the Unix domain socket $socket is used without it");
        $tls = 0;
    }
    my $self = bless {
        source => $source, host => $host, port => $port, socket_path => $socket,
        secret => $o{secret} // _env('SIGNALBOX_SECRET'), tls => $tls,
        where => defined $socket ? "unix:$socket" : "$host:$port", auth_failures => 0, last_error => undef,
        verdict => 0, hold_until => 0, rbuf => '', said => {},
        bound => $o{buffer_size} // 1000, heartbeat => $o{heartbeat_interval} // 10,
        min_backoff => $o{reconnect_min} // 0.1, max_backoff => $o{reconnect_max} // 30,
        close_timeout => $o{close_timeout} // 2, max_line => $o{max_line} // 65536,
        sock => undef, connecting => 0, q => [], ctl => [], off => 0, sent => 0, dropped => 0,
        reported => 0, backoff => 0, next_try => 0, last_hb => _now(), owner => $$, closed => 0,
        ctx => {}, ctxjson => '', stack => [], spans => {}, signals => $o{signals} // 1,
        coalesce => $o{coalesce} && $CORK && !defined $socket, propagate => $o{propagate} // 1,
        env0 => [@ENV{qw(SIGNALBOX_TRACE TRACEPARENT)}],
    }, $class;
    $self->{head} = '{"v":1,"src":' . _str($source) . ',"ts":';
    $self->{ssl} = _ssl_options($class, $ca, $o{server_name} // _env('SIGNALBOX_TLS_SERVER_NAME') // $host) if $tls;
    $self->continue_trace($ENV{SIGNALBOX_TRACE}) or $self->continue_trace($ENV{TRACEPARENT}, 1);
    $self->{env_set} = [@ENV{qw(SIGNALBOX_TRACE TRACEPARENT)}];   # what we found is what we "wrote"
    weaken($LIVE{"$self"} = $self);
    _install_signals() if $self->{signals};
    $self->_connect;
    return $self;
}

sub _env { my $v = $ENV{$_[0]}; defined $v && length $v ? $v : undef }   # set but empty = not set
sub _bool { my $v = shift; defined $v && $v !~ /^\s*(?:0|false|no|off|)\s*$/i }

# IO::Socket::SSL is loaded here, only when TLS is asked for: plain TCP and Unix domain sockets
# need nothing beyond core Perl. Without it TLS cannot be had, and sending in clear text instead
# would be worse than stopping: new() dies saying so.
sub _ssl_options {
    my ($class, $ca, $name) = @_;
    unless (eval { require IO::Socket::SSL; IO::Socket::SSL->VERSION(1.969); 1 }) {
        (my $why = $@) =~ s/\n.*//s;
        Carp::croak("$class->new: TLS was asked for (tls, ca_file or SIGNALBOX_TLS*) but IO::Socket::SSL "
            . "(1.969 or newer) cannot be loaded: install it (Debian: libio-socket-ssl-perl; CPAN: "
            . "IO::Socket::SSL) or turn TLS off. ($why)");
    }
    Carp::croak("$class->new: ca_file '$ca' is not a readable file") if defined $ca && !-r $ca;
    my $ip = $name =~ /^[\d.]+$/ || $name =~ /:/;
    return {
        SSL_verify_mode => IO::Socket::SSL::SSL_VERIFY_PEER(), SSL_verifycn_scheme => 'http',
        SSL_verifycn_name => $name, ($ip ? () : (SSL_hostname => $name)),
        SSL_version => 'SSLv23:!SSLv2:!SSLv3:!TLSv1:!TLSv1_1',   # TLS 1.2 or newer
        (defined $ca ? (SSL_ca_file => $ca) : ()),
    };
}

# The first given value of host or port, in order of precedence; a port that is not one is
# refused with a warning naming where it came from, and the next one is used.
sub _pick {
    my ($what, @c) = @_;
    my @given = grep { defined $_->[0] } @c;
    if ($what eq 'host' && defined $c[0][0] && defined $c[1][0] && $c[0][0] ne $c[1][0]) {
        Carp::carp("Monitoring::SDK->new: host '$c[0][0]' and tcp_host '$c[1][0]' differ; using host");
    }
    if ($what eq 'port' && defined $c[0][0] && defined $c[1][0] && $c[0][0] ne $c[1][0]) {
        Carp::carp("Monitoring::SDK->new: port '$c[0][0]' and tcp_port '$c[1][0]' differ; using port");
    }
    for my $c (@given) {
        return $c->[0] if $what eq 'host' ? length $c->[0]
                                          : $c->[0] =~ /^\s*0*([1-9]\d{0,4})\s*$/ && $1 <= 65535 && ($c->[0] = $1);
        Carp::carp("Monitoring::SDK->new: $what '$c->[0]' (from $c->[1]) is not a valid $what; ignored");
    }
}

# ---- the contract ----------------------------------------------------------------------------
sub log_event {
    my $self = ref $_[0] ? shift : _self(\@_);
    my ($level, $msg, $ctx) = @_;
    $self->_emit('event', '{"level":' . _str($level // 'info') . ',"msg":' . _str($msg // '')
        . (defined $ctx ? ',"ctx":' . _enc($ctx) : '') . '}');
    $self->_push if $self->{coalesce} && ($level // '') =~ /^(?:error|fatal|critical)$/i;   # at once
}

sub log_metric {
    my $self = ref $_[0] ? shift : _self(\@_);
    my ($name, $value, $unit, $tags) = @_;
    $self->_emit('metric', '{"name":' . _str($name // '') . ',"value":' . _num($value)
        . (defined $unit ? ',"unit":' . _str($unit) : '')
        . (defined $tags ? ',"tags":' . _enc($tags) : '') . '}');
}

sub log_progress {
    my $self = ref $_[0] ? shift : _self(\@_);
    my ($job, $percent, $status) = @_;
    $job //= $self->{ctx}{job_id};
    $self->_emit('progress', '{"job_id":' . _str($job) . ',"percent":' . _num($percent)
        . (defined $status ? ',"status":' . _str($status) : '') . '}');
}

# log_resource(cpu, mem, disk, net); without arguments: this process's CPU seconds and RSS bytes.
sub log_resource {
    my $self = ref $_[0] ? shift : _self(\@_);
    my (@v) = @_;
    @v = _sample() unless @v;
    my @k = qw(cpu mem disk net);
    $self->_emit('resource', '{' . join(',', map { qq("$k[$_]":) . _num($v[$_]) } grep { defined $v[$_] } 0 .. 3)
        . '}');
}

sub start_span {
    my $self = ref $_[0] ? shift : _self(\@_);
    my ($name, $attrs) = @_;
    my $sid = _id();
    return $sid if $self->{closed};
    $self->{spans}{$sid} = [$name, _now(), $self->_sid, $attrs, $self->_tid // _trace_id()];
    push @{$self->{stack}}, $sid;
    $self->{loose} = $sid;   # its trace can still change: see set_context
    $self->_sync_env if $self->{propagate};
    return $sid;
}

sub end_span {
    my $self = ref $_[0] ? shift : _self(\@_);
    my ($sid, $status, $attrs) = @_;
    my $s = delete $self->{spans}{$sid // ''} or return;
    my ($name, $start, $parent, $a0, $tid) = @$s;
    $attrs = $attrs && $a0 ? { %$a0, %$attrs } : $attrs // $a0;
    @{$self->{stack}} = grep { $_ ne $sid } @{$self->{stack}};
    $self->_emit('span', '{"name":' . _str($name) . ',"status":' . _str($status // 'ok') . ',"start":'
        . int($start) . ',"end":' . int(_now()) . (defined $attrs ? ',"attrs":' . _enc($attrs) : '') . '}',
        $tid, $sid, $parent);
    $self->_sync_env if $self->{propagate};
}

# span(name, sub { my ($sid) = @_; ... }): the span ends "ok", or "error" (and the error is rethrown).
sub span {
    my $self = ref $_[0] ? shift : _self(\@_);
    my ($name, $code, $attrs) = @_;
    my $want = wantarray;
    my $sid = $self->start_span($name, $attrs);
    my @r;
    my $ok = eval { @r = $want ? $code->($sid) : scalar $code->($sid); 1 };
    my $err = $@;
    $self->end_span($sid, $ok ? 'ok' : 'error', $ok ? undef : { error => "$err" });
    die $err unless $ok;
    return $want ? @r : $r[0];
}

sub set_context {
    my $self = ref $_[0] ? shift : _self(\@_);
    my ($key, $value) = @_;
    return if $self->{closed};
    if (defined $value) { $self->{ctx}{$key} = $value } else { delete $self->{ctx}{$key} }
    $self->{ctxjson} = %{$self->{ctx}} ? ',"ctx":' . _enc($self->{ctx}) : '';
    return unless $key eq 'job_id';
    # 001's queue-service starts its span, then sets the job id: a span that nothing has been
    # logged under yet (and that has no child span) joins the job set now, instead of keeping the
    # trace it was started in (a new one, or the previous job's).
    my $l = $self->{loose};
    $self->{spans}{$l}[4] = $value if defined $value && defined $l && $self->{spans}{$l};
    $self->_sync_env if $self->{propagate};
}

# The environment a child process needs to continue this trace: SIGNALBOX_TRACE=<tid>:<span id>
# (the innermost open span), and TRACEPARENT when both ids are W3C-shaped.
sub child_env {
    my $self = ref $_[0] ? shift : _self(\@_);
    my ($tid, $sid) = ($self->_tid, $self->_sid);
    return {} unless defined $tid;
    return { SIGNALBOX_TRACE => $tid } unless defined $sid;
    my %env = (SIGNALBOX_TRACE => "$tid:$sid");
    $env{TRACEPARENT} = "00-$tid-$sid-01" if $tid =~ /^[0-9a-f]{32}$/ && $sid =~ /^[0-9a-f]{16}$/;
    return \%env;
}

# Continues a trace carried some other way than our environment (e.g. in a queued job): a
# SIGNALBOX_TRACE or TRACEPARENT value, as if it had been in the environment at creation (undef:
# forget it). Returns true when the value was understood. (Perl only, beyond the shared contract.)
sub continue_trace {
    my $self = ref $_[0] ? shift : _self(\@_);
    my ($t, $w3c) = @_;
    @$self{qw(env_tid env_sid)} = ();
    return 0 unless defined $t && length $t;
    if ($t =~ /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/) {
        return 0 if $1 eq 'ff' || $2 =~ /^0+$/ || $3 =~ /^0+$/;
        @$self{qw(env_tid env_sid)} = ($2, $3);
    } elsif (!$w3c && ($t =~ /^(.+):([^:]+)$/ || $t =~ /^([^:]+)$/)) { @$self{qw(env_tid env_sid)} = ($1, $2) }
    $self->_sync_env if $self->{propagate} && $self->{env_set};   # not from new(): the environment is its source
    return defined $self->{env_tid};
}

# propagate (on by default): %ENV always holds child_env, so a child started with system, exec,
# fork or backticks continues the trace without export_trace, as 001's queue-service expects of
# system("perl db_loader.pl ..."). close() puts back what the environment had, unless something
# else has changed these variables since.
sub _sync_env {
    my ($self) = @_;
    return if $self->{closed};
    my ($tid, $sid) = ($self->_tid, $self->_sid);   # child_env, without its hash (this runs per span)
    my $t = !defined $tid ? undef : defined $sid ? "$tid:$sid" : "$tid";
    my $w3c = defined $sid && $tid =~ /^[0-9a-f]{32}$/ && $sid =~ /^[0-9a-f]{16}$/ ? "00-$tid-$sid-01" : undef;
    if (defined $t) { $ENV{SIGNALBOX_TRACE} = $t if ($ENV{SIGNALBOX_TRACE} // '') ne $t } else { delete $ENV{SIGNALBOX_TRACE} }
    if (defined $w3c) { $ENV{TRACEPARENT} = $w3c } elsif (exists $ENV{TRACEPARENT}) { delete $ENV{TRACEPARENT} }
    $self->{env_set} = [$t, $w3c];
}

sub _restore_env {
    my ($self) = @_;
    my ($set, $cur) = ($self->{env_set}, [@ENV{qw(SIGNALBOX_TRACE TRACEPARENT)}]);
    return unless $self->{propagate} && $set && join("\0", map { $_ // "\1" } @$set) eq join("\0", map { $_ // "\1" } @$cur);
    my @k = qw(SIGNALBOX_TRACE TRACEPARENT);
    for my $i (0, 1) { if (defined $self->{env0}[$i]) { $ENV{$k[$i]} = $self->{env0}[$i] } else { delete $ENV{$k[$i]} } }
}

# Puts child_env into %ENV (removing stale values), so system/exec/fork'ed children inherit it.
sub export_trace {
    my $self = ref $_[0] ? shift : _self(\@_);
    my $e = $self->child_env;
    delete @ENV{qw(SIGNALBOX_TRACE TRACEPARENT)};
    @ENV{keys %$e} = values %$e;
    return $e;
}

# Flushes (up to close_timeout seconds), sends goodbye {sent, dropped}, closes. Idempotent.
sub close {
    my $self = ref $_[0] ? shift : do { shift if _is_class($_[0]); $DEFAULT } or return;
    my ($timeout) = @_;
    return $self->{close_pending} = 1 if $self->{in_io};        # called from a signal handler mid-write
    return if $self->{closed}++;
    delete $LIVE{"$self"};
    $self->_restore_env;
    if ($$ != $self->{owner}) { $self->_drop_socket; return }   # a forked child: not its connection
    {
        local $BUSY = $BUSY + 1;
        local $self->{in_io} = 1;
        if ($self->_flush($timeout // $self->{close_timeout}) && $self->{sock} && !$self->{connecting}) {
            push @{$self->{ctl}}, $self->_control('goodbye', $self->{sent}, $self->{dropped});
            $self->_wait_written(0.5);
        }
        $self->{unsent} = @{$self->{q}};                        # what could not be written in time is lost
        @{$self->{q}} = ();
        $self->_drop_socket;
    }
    _deferred() if $PENDING && !$BUSY;
}

sub DESTROY { local ($., $@, $!, $^E, $?); $_[0]->close unless $_[0]{closed} }

# ---- state -----------------------------------------------------------------------------------
sub state {
    my $self = ref $_[0] ? shift : _self(\@_);
    return 'CLOSED' if $self->{closed};
    return 'OVERFLOW' if @{$self->{q}} >= $self->{bound};
    return $self->{sock} && !$self->{connecting} ? 'CONNECTED' : 'DISCONNECTED';
}
sub buffered { scalar @{$_[0]{q}} }
sub host     { $_[0]{host} }   # where it sends, after arguments, environment and defaults
sub port     { $_[0]{port} }
sub socket_path { $_[0]{socket_path} }   # undef: TCP
sub tls      { $_[0]{tls} ? 1 : 0 }
sub auth_failures { $_[0]{auth_failures} }   # connections the sidecar refused as unauthorized
sub last_error { $_[0]{last_error} }         # the reason of the last refusal (e.g. bad_secret), or undef
sub dropped  { $_[0]{dropped} }
sub sent     { $_[0]{sent} }
sub unsent   { $_[0]{unsent} // 0 }   # left in the buffer when close() gave up
sub poll {   # for programs that go quiet: reconnect, heartbeat, write
    my $self = ref $_[0] ? shift : _self(\@_);
    return $self->state if $self->{closed};
    $self->_forked if $$ != $self->{owner};
    { local $BUSY = $BUSY + 1; $self->_tick }
    _deferred() if $PENDING && !$BUSY;
    return $self->state;
}

# Writes what is buffered, waiting up to $timeout seconds (and connecting once if needed).
# Returns true when nothing is left in the buffer.
sub flush {
    my $self = ref $_[0] ? shift : _self(\@_);
    my ($timeout) = @_;
    return 0 if $self->{in_io} || $self->{closed};
    my $done;
    {
        local $BUSY = $BUSY + 1;
        local $self->{in_io} = 1;
        $done = $self->_flush($timeout);
    }
    _deferred() if $PENDING && !$BUSY;
    $self->close if delete $self->{close_pending};
    return $done;
}

sub _flush {
    my ($self, $timeout) = @_;
    my $deadline = _now() + 1000 * ($timeout // $self->{close_timeout});
    $self->_connect unless $self->{sock};
    while ($self->{connecting} && _now() < $deadline) {
        # a TLS handshake may wait for the peer to answer: not for writability, which is at once
        $self->{handshake} ? $self->_ready(0, _min(0.01, ($deadline - _now()) / 1000))
                           : $self->_ready(1, ($deadline - _now()) / 1000);
        $self->_check_connect;
    }
    my $done = $self->_wait_written(($deadline - _now()) / 1000);
    $self->_push;
    return $done;
}

# ---- internals -------------------------------------------------------------------------------
sub _now { Time::HiRes::time() * 1000 }
sub _id {   # unique per process (forked children share rand's state, so the pid is mixed in)
    if ($prefix_pid != $$) {
        $prefix = (int(rand 4294967296) ^ ($$ * 2654435761) ^ int(Time::HiRes::time() * 1e6)) % 4294967296;
        ($prefix_pid, $counter) = ($$, 0);
    }
    return sprintf '%08x%08x', $prefix, ++$counter;
}
sub _trace_id { sprintf('%08x%08x', rand 4294967296, Time::HiRes::time()) . _id() }
sub _tid { my $s = $_[0]; $s->{ctx}{job_id} // (@{$s->{stack}} ? $s->{spans}{$s->{stack}[-1]}[4] : $s->{env_tid}) }
sub _sid { my $s = $_[0]; @{$s->{stack}} ? $s->{stack}[-1] : $s->{env_sid} }
sub _min { $_[0] < $_[1] ? $_[0] : $_[1] }

sub _emit {
    {
        local $BUSY = $BUSY + 1;
        _emit_line(@_);
    }
    _deferred() if $PENDING && !$BUSY;
}

sub _emit_line {
    my ($self, $type, $data, $tid, $sid, $pid) = @_;
    return if $self->{closed};
    $self->_forked if $$ != $self->{owner};
    if (@{$self->{q}} >= $self->{bound}) { $self->{dropped}++; return $self->_tick }
    ($tid, $sid) = ($self->_tid, $self->_sid) unless $sid;
    $self->{loose} = undef if defined $sid && defined $self->{loose} && $sid eq $self->{loose};   # seen: fixed
    my $line = $self->{head} . int(_now()) . ',"type":"' . $type . '"'
        . (defined $tid ? ',"tid":' . _str($tid) : '') . (defined $sid ? ',"sid":' . _str($sid) : '')
        . (defined $pid ? ',"pid":' . _str($pid) : '') . $self->{ctxjson} . ',"data":' . $data . "}\n";
    if (length($line) > $self->{max_line}) { $self->{dropped}++ } else { push @{$self->{q}}, $line }
    $self->_tick;
}

sub _control {   # hello, heartbeat, goodbye: no trace, no context, outside the bound
    my ($self, $type, @v) = @_;
    my @k = $type eq 'hello' ? qw(sdk version) : $type eq 'goodbye' ? qw(sent dropped) : qw(buffered dropped);
    # with a secret the hello is the handshake of docs/protocol.md (version 1): data.auth and data.token
    my $auth = $type eq 'hello' && defined $self->{secret} ? ',"auth":1,"token":' . _str($self->{secret}) : '';
    return $self->{head} . int(_now()) . ',"type":"' . $type . '","data":{' . join(',',
        map { qq("$k[$_]":) . ($type eq 'hello' ? _str($v[$_]) : $v[$_]) } 0 .. 1) . $auth . "}}\n";
}

sub _forked {   # in a forked child: leave the parent's connection and buffer alone, open our own
    my ($self) = @_;
    $self->_drop_socket;
    @{$self->{q}} = (); @{$self->{ctl}} = ();
    @$self{qw(owner off connecting sent dropped reported backoff next_try)} = ($$, 0, 0, 0, 0, 0, 0, 0);
    weaken($LIVE{"$self"} = $self);
}

sub _tick {   # reentrant calls (a signal handler that logs while we write) only buffer
    my ($self) = @_;
    return if $self->{in_io};
    { local $self->{in_io} = 1; $self->_io }
    $self->close if delete $self->{close_pending};
}

sub _io {
    my ($self) = @_;
    if (!$self->{sock}) { $self->_connect if _now() >= $self->{next_try}; return unless $self->{sock} }
    if ($self->{connecting}) { $self->_check_connect; return if $self->{connecting} || !$self->{sock} }
    $self->_check_closed or return;
    if ($self->{off} == 0 && _now() - $self->{last_hb} >= 1000 * $self->{heartbeat}) { $self->_heartbeat }
    $self->_write if @{$self->{ctl}} || @{$self->{q}};
}

sub _heartbeat {
    my ($self) = @_;
    push @{$self->{ctl}}, $self->_control('heartbeat', scalar @{$self->{q}}, $self->{dropped});
    $self->{reported} = $self->{dropped};
    $self->{last_hb} = _now();
}

# 'localhost' is 127.0.0.1, where the sidecar listens by default (the resolver may put ::1 first,
# which this IPv4 socket cannot use); other names resolve to their first IPv4 address.
sub _resolve { my $h = shift; lc $h eq 'localhost' ? inet_aton('127.0.0.1') : inet_aton($h) }

sub _connect {   # non-blocking: loopback answers at once, anything else finishes in later calls
    my ($self) = @_;
    return $self->_connect_unix if defined $self->{socket_path};
    my $addr = $self->{addr} //= _resolve($self->{host});
    if (!$addr && !$self->{unresolved}++) {   # said once; retried with the backoff like a refused connection
        Carp::carp("Monitoring::SDK: cannot resolve host '$self->{host}'; messages are buffered and the name retried");
    }
    my $sock = $addr && IO::Socket::INET->new(Proto => 'tcp', Blocking => 0);
    return $self->_failed unless $sock;
    $self->{sock} = $sock;
    $self->{fds} = ''; vec($self->{fds}, fileno $sock, 1) = 1;
    if (connect($sock, pack_sockaddr_in($self->{port}, $addr))) { return $self->_connected }
    return $self->_lost unless $! == EINPROGRESS || $! == EWOULDBLOCK || $! == EINTR;
    $self->{connecting} = _now();
    $self->_check_connect;
}

sub _connect_unix {   # a missing socket file or a full backlog fails at once, like a refused TCP connection
    my ($self) = @_;
    my $sock = IO::Socket::UNIX->new(Type => SOCK_STREAM) or return $self->_failed;
    $sock->blocking(0);
    $self->{sock} = $sock;
    $self->{fds} = ''; vec($self->{fds}, fileno $sock, 1) = 1;
    return connect($sock, pack_sockaddr_un($self->{socket_path})) ? $self->_connected : $self->_lost;
}

sub _check_connect {
    my ($self) = @_;
    return $self->_handshake if $self->{handshake};
    if ($self->_ready(1, 0)) {
        my $err = getsockopt($self->{sock}, SOL_SOCKET, SO_ERROR);
        return $self->_lost unless $err && unpack('i', $err) == 0;
        return $self->{tls} ? $self->_start_tls : $self->_connected;
    }
    $self->_lost if _now() - $self->{connecting} > 5000;   # a silent peer: give up this attempt
}

sub _start_tls {   # the TCP connection is there: the TLS handshake, non-blocking like the connect
    my ($self) = @_;
    $self->{connecting} ||= _now();
    IO::Socket::SSL->start_SSL($self->{sock}, SSL_startHandshake => 0, %{$self->{ssl}})
        or return $self->_tls_failed(IO::Socket::SSL::errstr());
    $self->{handshake} = 1;
    $self->_handshake;
}

sub _handshake {
    my ($self) = @_;
    my $sock = $self->{sock};
    if ($sock->connect_SSL) { $self->{handshake} = 0; return $self->_connected }
    my $e = $IO::Socket::SSL::SSL_ERROR;
    if ($e == IO::Socket::SSL::SSL_WANT_READ() || $e == IO::Socket::SSL::SSL_WANT_WRITE()) {
        return _now() - $self->{connecting} > 5000 ? $self->_tls_failed('handshake timed out') : undef;
    }
    $self->_tls_failed("$e");
}

sub _tls_failed {   # a certificate that is not trusted or does not name server_name, no TLS on the port ...
    my ($self, $why) = @_;
    $self->_report("tls:$why", "Monitoring::SDK: TLS with $self->{where} failed: $why; "
        . scalar(@{$self->{q}}) . ' messages buffered, retrying');
    $self->_lost;
}

sub _connected {
    my ($self) = @_;
    @$self{qw(connecting backoff off handshake)} = (0, 0, 0, 0);
    $self->{rbuf} = '';
    $self->_cork(1);
    @{$self->{ctl}} = ($self->_control('hello', 'perl', $VERSION));
    # with a secret (or after a refusal) messages wait for the sidecar's verdict on the hello
    $self->{hold_until} = defined $self->{secret} || $self->{verdict} ? _now() + $VERDICT_MS : 0;
    $self->_heartbeat if $self->{dropped} > $self->{reported};   # overflow while away: say so first
}

# Said once, again when it changes, else at most every $REPORT_EVERY s. Never carries the secret.
sub _report {
    my ($self, $key, $msg) = @_;
    my $now = time;
    return if ($self->{said}{key} // '') eq $key && $now - ($self->{said}{at} // 0) < $REPORT_EVERY;
    @{$self->{said}}{qw(key at)} = ($key, $now);
    warn "$msg\n";
}

# The sidecar wrote to us: only ever one error line before it closes (docs/protocol.md, "Errors").
sub _answer {
    my ($self, $line) = @_;
    my ($error) = $line =~ /"error"\s*:\s*"([^"\\]*)"/ or return;
    my ($reason) = $line =~ /"reason"\s*:\s*"([^"\\]*)"/;
    $reason //= 'unknown';
    if ($error eq 'unauthorized') {
        $self->{auth_failures}++;
        $self->{last_error} = $reason;
        $self->{verdict} = $self->{refused_auth} = 1;
        $self->_report("auth:$reason", "Monitoring::SDK: the sidecar at $self->{where} refused the connection: "
            . "unauthorized ($reason)" . (defined $self->{secret} ? '' : '; no secret is set (secret, SIGNALBOX_SECRET)')
            . '; ' . scalar(@{$self->{q}}) . " messages kept in the buffer, retrying in $self->{max_backoff} s");
    } else {
        $self->{last_error} = $reason;
        $self->{verdict} = 1;
        $self->_report("refused:$reason", "Monitoring::SDK: the sidecar at $self->{where} closed the connection: "
            . "$error ($reason); retrying");
    }
}

sub _failed {
    my ($self) = @_;
    # refused as unauthorized: retrying soon would not help, the secret or the sidecar must change
    my $b = $self->{backoff} = delete $self->{refused_auth} ? $self->{max_backoff}
        : $self->{backoff} ? _min(2 * $self->{backoff}, $self->{max_backoff}) : $self->{min_backoff};
    $self->{next_try} = _now() + 1000 * $b * (0.8 + rand 0.4);
    return;
}

sub _lost {   # the connection is gone: lines not completely written stay buffered and go again whole
    my ($self) = @_;
    $self->_drop_socket;
    @{$self->{ctl}} = ();
    @$self{qw(off connecting handshake hold_until)} = (0, 0, 0, 0);
    return $self->_failed;
}

sub _cork { setsockopt($_[0]{sock}, Socket::IPPROTO_TCP(), $CORK, $_[1]) if $_[0]{coalesce} && $_[0]{sock} }
sub _push { $_[0]->_cork(0); $_[0]->_cork(1) unless $_[0]{closed} }   # uncorking sends what waits

sub _drop_socket { my $s = delete $_[0]{sock}; CORE::close($s) if $s }

sub _ready {   # select on our socket: writable ($w) or readable, within $t seconds
    my ($self, $w, $t) = @_;
    my $v = $self->{fds};
    return ($w ? select(undef, $v, undef, $t) : select($v, undef, undef, $t)) > 0;
}

sub _check_closed {   # before each write: has the sidecar closed the connection? false if so
    my ($self) = @_;
    while (1) {   # non-blocking: EAGAIN while the connection is open (a method: TLS reads decrypt)
        my $n = $self->{sock}->sysread(my $buf, 4096);
        if (!defined $n) {
            last if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
            last if $self->{tls} && $IO::Socket::SSL::SSL_ERROR == IO::Socket::SSL::SSL_WANT_READ();
        }
        if (!$n) {   # closed: an error line it sent before may lack its newline
            $self->_answer(delete $self->{rbuf}) if length($self->{rbuf} // '');
            $self->_lost;
            return 0;
        }
        $self->{rbuf} .= $buf;
        $self->_answer($1) while $self->{rbuf} =~ s/^([^\n]*)\n//;
        $self->{rbuf} = substr($self->{rbuf}, -4096) if length $self->{rbuf} > 8192;   # bounded
    }
    return 1;
}

sub _write {   # hands as much as the socket takes to the kernel; never waits
    my ($self) = @_;
    my ($ctl, $q) = @$self{qw(ctl q)};
    return if $self->{full} && !$self->_ready(1, 0);   # the last send() found the socket full
    $self->{full} = 0;
    $q = [] if $self->{hold_until} && _now() < $self->{hold_until};   # waiting for the verdict on the hello
    local $SIG{PIPE} = 'IGNORE' if $self->{tls};   # TLS writes cannot ask for MSG_NOSIGNAL
    while (@$ctl || @$q) {
        my $chunk = substr((@$ctl ? $ctl->[0] : $q->[0]), $self->{off});
        for my $i (1 .. $#$ctl + @$q) {
            last if length($chunk) >= $CHUNK;
            $chunk .= $i <= $#$ctl ? $ctl->[$i] : $q->[$i - @$ctl];
        }
        # a TLS write that must be repeated is repeated with the same bytes first: the chunk only grows
        my $n = $self->{tls} ? $self->{sock}->syswrite($chunk) : send($self->{sock}, $chunk, $NOSIGNAL);
        if (!defined $n) {
            return $self->{full} = 1 if $! == EAGAIN || $! == EWOULDBLOCK;
            return $self->{full} = 1 if $self->{tls} && $IO::Socket::SSL::SSL_ERROR == IO::Socket::SSL::SSL_WANT_WRITE();
            return $! == EINTR ? undef : $self->_lost;
        }
        $n += $self->{off};
        while ($n > 0) {
            my $list = @$ctl ? $ctl : $q;
            my $len = length $list->[0];
            if ($n < $len) { $self->{off} = $n; return }
            $n -= $len;
            shift @$list;
            $self->{off} = 0;
            $self->{sent}++ if $list == $q;
        }
    }
}

sub _wait_written {
    my ($self, $t) = @_;
    my $deadline = _now() + 1000 * ($t > 0 ? $t : 0);
    while ($self->{sock} && !$self->{connecting} && (@{$self->{ctl}} || @{$self->{q}})) {
        $self->_check_closed && $self->_write;
        my $left = ($deadline - _now()) / 1000;
        last if !$self->{sock} || !(@{$self->{ctl}} || @{$self->{q}}) || $left <= 0;
        if (!@{$self->{ctl}} && _now() < $self->{hold_until}) {   # waiting for a refusal: readable
            $self->_ready(0, _min($left, ($self->{hold_until} - _now()) / 1000));
        } else { $self->_ready(1, _min($left, 0.05)) }
    }
    return !@{$self->{q}};
}

sub _sample {   # CPU seconds (user + system) and resident memory in bytes; disk and net unknown
    my ($u, $s) = times;
    my $rss;
    if (open my $fh, '<', '/proc/self/statm') { my @f = split ' ', scalar <$fh>; $rss = $f[1] * 4096 }
    return ($u + $s, $rss, undef, undef);
}

# ---- JSON (JSON::PP costs ~70 us per message; these few string operations cost ~2) -------------
sub _str {
    my $s = shift;
    return 'null' unless defined $s;
    utf8::encode($s) if utf8::is_utf8($s);
    $s =~ s/([\x00-\x1f"\\])/$ESC{$1}/g if $s =~ /[\x00-\x1f"\\]/;
    return qq("$s");
}

sub _num {
    my $v = shift;
    return 'null' unless defined $v && looks_like_number($v);
    my $n = 0 + $v;
    return ($n != $n || $n * 0 != 0) ? 'null' : "$n";   # NaN and infinities are not JSON
}

sub _enc {   # a scalar with a numeric value is a number ("42" read from a file and compared with
    my $v = shift;   # > is one too), others are strings
    my $r = ref $v;
    if (!$r) {
        return 'null' unless defined $v;
        return !utf8::is_utf8($v) && (my $x = $v ^ $v) eq '0' && looks_like_number($v) ? _num($v) : _str($v);
    }
    return '{' . join(',', map { ($_ =~ /[^\x20-\x21\x23-\x5b\x5d-\x7e]/ ? _str($_) : qq("$_")) . ':'
        . _enc($v->{$_}) } keys %$v) . '}' if $r eq 'HASH';
    return '[' . join(',', map { _enc($_) } @$v) . ']' if $r eq 'ARRAY';
    return $$v ? 'true' : 'false' if $r eq 'SCALAR';
    return $v ? 'true' : 'false' if $r =~ /Boolean$/;
    return _str("$v");
}

# ---- SIGINT / SIGTERM: close every client (flush + goodbye), then what was there before -------
# A signal that arrives while a client is in the middle of socket I/O is handled right after it.
my %PREV;
sub _install_signals {
    for my $sig (qw(INT TERM)) {
        next if exists $PREV{$sig};
        $PREV{$sig} = $SIG{$sig};
        $SIG{$sig} = sub { if ($BUSY) { $PENDING = $sig } else { _on_signal($sig) } };
    }
}

sub _deferred { my $sig = $PENDING; $PENDING = undef; _on_signal($sig) }

sub _on_signal {
    my ($sig) = @_;
    $_->close for grep { $_ && $_->{signals} && $_->{owner} == $$ } values %LIVE;
    my $prev = $PREV{$sig};
    return $prev->($sig) if ref $prev eq 'CODE';
    return if defined $prev && $prev eq 'IGNORE';
    $SIG{$sig} = 'DEFAULT';
    kill $sig, $$;
}

END { $_->close for grep { $_ && $_->{owner} == $$ } values %LIVE }

1;
