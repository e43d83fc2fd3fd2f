package ScimCluster;

# A local Redis Cluster for the tests: 3 primaries + 3 replicas (by
# default) on free loopback ports, in a directory of the test's temp dir.
#
#   use ScimCluster;
#   my $c = ScimCluster->new(dir => $t->dir, free_port => sub { $t->free_port });
#   $c->start or die $c->error;    # a few seconds: create, cluster_state:ok
#   $c->seeds                      # "127.0.0.1:p1 127.0.0.1:p2 127.0.0.1:p3"
#   $c->cmd(@cmd)                  # routed by the slot of its key, follows
#                                  # MOVED and ASK; keyless commands go to
#                                  # every primary (see cmd below)
#   $c->node_cmd($port, @cmd)      # one node, no redirection
#   $c->scan_keys($pattern)        # SCAN on every primary
#   $c->slot($key)                 # CRC16/XMODEM of the hash tag % 16384
#   $c->owner($slot)               # port of the primary serving it
#   $c->primaries $c->replicas     # ports (from CLUSTER NODES, refreshed)
#   $c->replica_of($port)          # ports of its replicas
#   $c->signal($port, 'STOP')      # kill(2) a node
#   $c->kill_node($port)           # SIGKILL, reaped; restart_node($port)
#   $c->failover($replica[, force => 1])  # CLUSTER FAILOVER, waits for it
#   $c->wait_ok(timeout[, replicas => 1])
#                                  # every live node says cluster_state:ok
#                                  # and agrees on the slot map (and all
#                                  # replicas attached and in sync)
#   $c->migrate_slot($slot, $to_port, between => sub { ... })
#                                  # SETSLOT IMPORTING/MIGRATING, MIGRATE
#                                  # of its keys (between runs after the
#                                  # first batch; pause => s between
#                                  # batches, batch => keys per MIGRATE;
#                                  # moved_keys => sub: called when every
#                                  # key is on the target, before SETSLOT
#                                  # NODE: the source answers ASK),
#                                  # SETSLOT NODE everywhere
#   $c->stop                       # SIGTERM all, reaped (also on DESTROY)
#
# Replies as in ScimTest::redis_cmd: scalar context the reply (undef for
# nil or error), list context (reply, error); arrays as array refs.
# Environment: SCIM_REDIS_SERVER, SCIM_REDIS_CLI (default: in PATH).

use strict;
use warnings;

use POSIX qw(:sys_wait_h);
use Time::HiRes qw(time sleep);
use IO::Socket::INET;

require ScimTest;


my @CRC16_TAB;

for my $i (0 .. 255) {
    my $crc = $i << 8;
    for (1 .. 8) {
        $crc = ($crc & 0x8000) ? (($crc << 1) ^ 0x1021) : ($crc << 1);
        $crc &= 0xffff;
    }
    $CRC16_TAB[$i] = $crc;
}

# CRC16/XMODEM (poly 0x1021, init 0), as the Redis Cluster spec uses
sub crc16 {
    my ($s) = @_;
    utf8::encode($s) if utf8::is_utf8($s);
    my $crc = 0;
    for my $b (unpack 'C*', $s) {
        $crc = (($crc << 8) & 0xffff) ^ $CRC16_TAB[(($crc >> 8) ^ $b) & 0xff];
    }
    return $crc;
}

# the hash slot of a key: the "{...}" rule of the spec
sub slot {
    my ($self, $key) = @_;
    $key = $self unless ref $self || defined $key;
    my $s = index($key, '{');
    if ($s >= 0) {
        my $e = index($key, '}', $s + 1);
        if ($e > $s + 1) {
            $key = substr($key, $s + 1, $e - $s - 1);
        }
    }
    return crc16($key) % 16384;
}

sub _which {
    my ($prog) = @_;
    return $prog if $prog =~ m{/} && -x $prog;
    for my $d ((split /:/, ($ENV{PATH} // '')), '/usr/sbin', '/usr/bin',
               '/usr/local/bin')
    {
        return "$d/$prog" if $d ne '' && -x "$d/$prog";
    }
    return undef;
}

sub available {
    return _which($ENV{SCIM_REDIS_SERVER} // 'redis-server')
        && _which($ENV{SCIM_REDIS_CLI} // 'redis-cli');
}

sub new {
    my ($class, %o) = @_;
    my $self = bless {
        owner     => $$,
        dir       => ($o{dir} // die("dir needed")) . '/cluster',
        free_port => ($o{free_port} // die("free_port needed")),
        primaries => $o{primaries} // 3,
        nreplicas => $o{replicas} // 1,
        node_timeout => $o{node_timeout} // 2000,
        password  => $o{password},
        opts      => $o{opts} // [],
        server    => _which($ENV{SCIM_REDIS_SERVER} // 'redis-server'),
        cli       => _which($ENV{SCIM_REDIS_CLI} // 'redis-cli'),
        pids      => {},
        conns     => {},
        ports     => [],
    }, $class;
    mkdir $self->{dir};
    return $self;
}

sub error { $_[0]{error} }
sub ports { @{ $_[0]{ports} } }
sub dir   { $_[0]{dir} }
sub pid   { $_[0]{pids}{$_[1]} }

sub seeds {
    my ($self) = @_;
    my @p = @{$self->{seed_ports} // [ $self->primaries ]};
    return join(' ', map { "127.0.0.1:$_" } @p);
}

sub _start_node {
    my ($self, $port) = @_;
    my $d = "$self->{dir}/$port";
    mkdir $d;
    my @cmd = ($self->{server}, '--port', $port, '--bind', '127.0.0.1',
        '--save', '', '--appendonly', 'no', '--dir', $d,
        '--daemonize', 'no', '--logfile', "$d/redis.log",
        '--protected-mode', 'no', '--cluster-enabled', 'yes',
        '--cluster-config-file', "$d/nodes.conf",
        '--cluster-node-timeout', $self->{node_timeout});
    push @cmd, '--requirepass', $self->{password}, '--masterauth',
        $self->{password} if defined $self->{password};
    push @cmd, @{$self->{opts}};
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$d/redis.out";
        open STDERR, '>&', \*STDOUT;
        exec @cmd or POSIX::_exit(127);
    }
    $self->{pids}{$port} = $pid;
    my $deadline = time + 10;
    while (time < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $self->{pids}{$port};
            return 0;
        }
        my ($r) = $self->node_cmd($port, 'PING');
        return 1 if defined $r && $r eq 'PONG';
        sleep 0.05;
    }
    return 0;
}

# starts the nodes, creates the cluster, waits for it; 0 and ->error if not
sub start {
    my ($self, %o) = @_;
    unless ($self->{server} && $self->{cli}) {
        $self->{error} = 'redis-server or redis-cli not found';
        return 0;
    }
    my $n = $self->{primaries} * (1 + $self->{nreplicas});
    my %taken;
    for my $i (1 .. $n) {
        my $ok;
        for (1 .. 5) {
            my $p = $self->{free_port}->();
            next if $taken{$p} || $taken{$p + 10000};
            $taken{$p} = 1;
            if ($self->_start_node($p)) {
                push @{$self->{ports}}, $p;
                $ok = 1;
                last;
            }
        }
        unless ($ok) {
            $self->{error} = "cannot start cluster node $i";
            $self->stop;
            return 0;
        }
    }
    my @cli = ($self->{cli});
    push @cli, '-a', $self->{password}, '--no-auth-warning'
        if defined $self->{password};
    my $out = "$self->{dir}/create.out";
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out;
        open STDERR, '>&', \*STDOUT;
        exec @cli, '--cluster', 'create',
            (map { "127.0.0.1:$_" } @{$self->{ports}}),
            '--cluster-replicas', $self->{nreplicas}, '--cluster-yes'
            or POSIX::_exit(127);
    }
    unless (_wait_pid($pid, 60) && $? == 0) {
        kill 'KILL', $pid;
        _wait_pid($pid, 3);
        $self->{error} = "redis-cli --cluster create failed: "
            . (_slurp($out) // '');
        $self->stop;
        return 0;
    }
    unless ($self->wait_ok($o{timeout} // 30, replicas => 1)) {
        $self->{error} = 'the cluster did not reach cluster_state:ok: '
            . ($self->{why} // '');
        $self->stop;
        return 0;
    }
    $self->{seed_ports} = [ $self->primaries ];
    return 1;
}

sub _slurp {
    my ($f) = @_;
    open my $fh, '<', $f or return undef;
    local $/;
    return scalar <$fh>;
}

sub _wait_pid {
    my ($pid, $secs) = @_;
    my $deadline = time + $secs;
    while (time < $deadline) {
        return 1 if waitpid($pid, WNOHANG) == $pid;
        sleep 0.05;
    }
    return 0;
}

sub _alive { my ($self, $p) = @_; return exists $self->{pids}{$p} }

# the nodes as one live node sees them: { port => {id, role, master
# (port), flags, slots => [[a, b], ...]} }
sub nodes {
    my ($self) = @_;
    for my $p (grep { $self->_alive($_) } @{$self->{ports}}) {
        my $txt = $self->node_cmd($p, 'CLUSTER', 'NODES');
        next unless defined $txt && !ref $txt;
        my (%n, %by_id);
        for my $l (split /\n/, $txt) {
            my @f = split / /, $l;
            next if @f < 8;
            my ($port) = $f[1] =~ /:(\d+)/;
            next unless $port;
            my %e = (id => $f[0], flags => $f[2], master_id => $f[3],
                     link => $f[7], slots => []);
            $e{role} = $f[2] =~ /master/ ? 'master' : 'slave';
            $e{failed} = $f[2] =~ /\bfail\b/ ? 1 : 0;
            for my $s (@f[8 .. $#f]) {
                next if $s =~ /^\[/;
                my ($a, $b) = split /-/, $s;
                push @{$e{slots}}, [$a, $b // $a];
            }
            $n{$port} = \%e;
            $by_id{$f[0]} = $port;
        }
        for my $e (values %n) {
            $e->{master} = $by_id{$e->{master_id}} if $e->{master_id} ne '-';
        }
        return \%n;
    }
    return {};
}

sub primaries {
    my ($self) = @_;
    my $n = $self->nodes;
    return sort { $a <=> $b }
           grep { $n->{$_}{role} eq 'master' && !$n->{$_}{failed}
                  && @{$n->{$_}{slots}} } keys %$n;
}

sub replicas {
    my ($self) = @_;
    my $n = $self->nodes;
    return sort { $a <=> $b } grep { $n->{$_}{role} eq 'slave' } keys %$n;
}

sub replica_of {
    my ($self, $port) = @_;
    my $n = $self->nodes;
    return sort { $a <=> $b }
           grep { ($n->{$_}{master} // 0) == $port } keys %$n;
}

sub owner {
    my ($self, $slot) = @_;
    my $n = $self->nodes;
    for my $p (keys %$n) {
        next unless $n->{$p}{role} eq 'master' && !$n->{$p}{failed};
        for my $r (@{$n->{$p}{slots}}) {
            return $p if $slot >= $r->[0] && $slot <= $r->[1];
        }
    }
    return undef;
}

# every live node: cluster_state:ok and the same CLUSTER SLOTS
sub wait_ok {
    my ($self, $secs, %o) = @_;
    my $deadline = time + ($secs // 30);
    while (time < $deadline) {
        my ($ok, %seen) = (1);
        for my $p (grep { $self->_alive($_) } @{$self->{ports}}) {
            my $info = $self->node_cmd($p, 'CLUSTER', 'INFO') // '';
            if ($info !~ /cluster_state:ok/) {
                $ok = 0;
                $self->{why} = "node $p: not ok";
                last;
            }
            my $slots = $self->node_cmd($p, 'CLUSTER', 'SLOTS');
            my $sig = join ';', sort map { "$_->[0]-$_->[1]:$_->[2][1]" }
                      @{ ref $slots ? $slots : [] };
            $seen{$sig} = 1;
        }
        if ($ok && $o{replicas}) {
            my $n = $self->nodes;
            my @r = grep { $n->{$_}{role} eq 'slave' } keys %$n;
            if (@r < $self->{primaries} * $self->{nreplicas}) {
                $ok = 0;
                $self->{why} = scalar(@r) . ' replicas attached';
            }
            for my $p (@r) {
                my $info = $self->node_cmd($p, 'INFO', 'replication') // '';
                next if $info =~ /master_link_status:up/;
                $ok = 0;
                $self->{why} = "replica $p not in sync";
            }
        }
        if ($ok && keys %seen == 1) {
            my ($sig) = keys %seen;
            # every slot covered
            my $n = 0;
            for my $r (split /;/, $sig) {
                my ($a, $b) = $r =~ /^(\d+)-(\d+)/ or next;
                $n += $b - $a + 1;
            }
            return 1 if $n == 16384;
            $self->{why} = "$n slots covered";
        } elsif ($ok) {
            $self->{why} = 'nodes disagree on the slot map';
        }
        sleep 0.1;
    }
    return 0;
}

sub _conn {
    my ($self, $port) = @_;
    my $s = $self->{conns}{$port};
    return $s if $s;
    $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
        Proto => 'tcp', Timeout => 2) or return undef;
    binmode $s;
    if (defined $self->{password}) {
        my ($r, $e) = ScimTest::_redis_io($s, ['AUTH', $self->{password}], 3);
        return undef if $e;
    }
    $self->{conns}{$port} = $s;
    return $s;
}

# one command on one node (no redirection); opts: {timeout => s}
sub node_cmd {
    my ($self, $port, @args) = @_;
    my %o = ref $args[0] eq 'HASH' ? %{ shift @args } : ();
    for my $try (1, 2) {
        my $s = $self->_conn($port);
        return wantarray ? (undef, 'connect failed') : undef unless $s;
        my ($r, $e) = ScimTest::_redis_io($s, \@args, $o{timeout} // 5);
        if (defined $e && $e =~ /^(?:EOF|write|timeout)/) {
            delete $self->{conns}{$port};
            next if $try == 1 && $e !~ /^timeout/;
        }
        return wantarray ? ($r, $e) : $r;
    }
    return wantarray ? (undef, 'failed') : undef;
}

my %KEYLESS = map { $_ => 1 } qw(PING INFO FLUSHALL FLUSHDB SCRIPT CONFIG
    CLIENT DBSIZE KEYS SCAN CLUSTER WAIT DEBUG SLOWLOG LATENCY MEMORY
    COMMAND TIME LASTSAVE ECHO FUNCTION);

# the key of a command (first key), undef if it has none
sub _key_of {
    my (@a) = @_;
    my $c = uc($a[0] // '');
    return undef if $KEYLESS{$c};
    if ($c eq 'EVAL' || $c eq 'EVALSHA' || $c eq 'EVAL_RO'
        || $c eq 'EVALSHA_RO' || $c eq 'FCALL')
    {
        return ($a[2] // 0) > 0 ? $a[3] : undef;
    }
    return $a[1];
}

# A command on the cluster: a command with a key goes to the owner of its
# slot (MOVED and ASK followed, TRYAGAIN/CLUSTERDOWN retried for 5 s);
# a keyless one goes to every primary: KEYS gives the union, DBSIZE the
# sum, INFO the replies joined, others the first primary's reply.
sub cmd {
    my ($self, @args) = @_;
    my %o = ref $args[0] eq 'HASH' ? %{ shift @args } : ();
    my $key = _key_of(@args);
    unless (defined $key) {
        my $c = uc $args[0];
        my @p = $self->primaries;
        my (@r, $err);
        for my $p (@p) {
            my ($r, $e) = $self->node_cmd($p, { %o }, @args);
            push @r, $r;
            $err //= $e;
        }
        my $r;
        if ($c eq 'KEYS') {
            $r = [ map { @{ $_ // [] } } @r ];
        } elsif ($c eq 'DBSIZE') {
            $r = 0;
            $r += ($_ // 0) for @r;
        } elsif ($c eq 'INFO') {
            # command counts summed over the primaries, the rest as the
            # first one says
            my (%calls, @order, @rest);
            for my $txt (map { $_ // '' } @r) {
                for my $l (split /\r?\n/, $txt) {
                    if ($l =~ /^(cmdstat_[^:]+):calls=(\d+)/) {
                        push @order, $1 unless exists $calls{$1};
                        $calls{$1} += $2;
                    } elsif ($txt eq ($r[0] // '')) {
                        push @rest, $l;
                    }
                }
            }
            $r = join("\r\n", @rest,
                      map { "$_:calls=$calls{$_}" } @order) . "\r\n";
        } else {
            $r = $r[0];
        }
        return wantarray ? ($r, $err) : $r;
    }
    my $slot = $self->slot($key);
    my $port = $self->{slot_cache}{$slot} //= $self->owner($slot)
        // ($self->primaries)[0];
    my ($asking, $deadline) = (0, time + 5);
    for (1 .. 50) {
        my ($r, $e);
        if ($asking) {
            my $s = $self->_conn($port);
            ScimTest::_redis_io($s, ['ASKING'], 3) if $s;
            $asking = 0;
        }
        ($r, $e) = $self->node_cmd($port, { %o }, @args);
        if (defined $e && $e =~ /^MOVED \d+ [^:]+:(\d+)/) {
            $port = $self->{slot_cache}{$slot} = $1;
            next;
        }
        if (defined $e && $e =~ /^ASK \d+ [^:]+:(\d+)/) {
            $port = $1;
            $asking = 1;
            next;
        }
        if (defined $e && $e =~ /^(?:TRYAGAIN|CLUSTERDOWN|connect failed)/
            && time < $deadline)
        {
            delete $self->{slot_cache}{$slot};
            sleep 0.1;
            $port = $self->owner($slot) // $port;
            next;
        }
        return wantarray ? ($r, $e) : $r;
    }
    return wantarray ? (undef, 'too many redirections') : undef;
}

# the keys matching a pattern, on every primary (SCAN, bounded)
sub scan_keys {
    my ($self, $pattern) = @_;
    my %k;
    for my $p ($self->primaries) {
        my $cursor = 0;
        for (1 .. 10000) {
            my $r = $self->node_cmd($p, 'SCAN', $cursor, 'MATCH', $pattern,
                                    'COUNT', 1000);
            last unless ref $r eq 'ARRAY';
            $cursor = $r->[0];
            $k{$_} = 1 for @{$r->[1] // []};
            last if $cursor eq '0';
        }
    }
    return sort keys %k;
}

sub flush_slot_cache { delete $_[0]{slot_cache} }

sub signal {
    my ($self, $port, $sig) = @_;
    my $pid = $self->{pids}{$port} or return 0;
    return kill $sig, $pid;
}

sub kill_node {
    my ($self, $port) = @_;
    my $pid = delete $self->{pids}{$port} or return 0;
    kill 'KILL', $pid;
    _wait_pid($pid, 5);
    delete $self->{conns}{$port};
    $self->flush_slot_cache;
    return 1;
}

sub restart_node {
    my ($self, $port) = @_;
    return 1 if $self->_alive($port);
    delete $self->{conns}{$port};
    return $self->_start_node($port);
}

# CLUSTER FAILOVER on a replica (a manual failover: no write lost), then
# waits until it is a primary and the cluster agrees; 1 on success
sub failover {
    my ($self, $replica, %o) = @_;
    my ($r, $e) = $self->node_cmd($replica, 'CLUSTER', 'FAILOVER',
                                  $o{force} ? ('FORCE') : ());
    return $self->_fail("CLUSTER FAILOVER: $e") if $e;
    my $deadline = time + ($o{timeout} // 20);
    while (time < $deadline) {
        my $role = $self->node_cmd($replica, 'ROLE');
        if (ref $role eq 'ARRAY' && ($role->[0] // '') eq 'master') {
            $self->flush_slot_cache;
            return $self->wait_ok($deadline - time);
        }
        sleep 0.05;
    }
    return $self->_fail("$replica did not become a primary");
}

sub _node_id {
    my ($self, $port) = @_;
    my $id = $self->node_cmd($port, 'CLUSTER', 'MYID');
    return $id;
}

# Moves a slot to another primary the way redis-cli --cluster reshard
# does: IMPORTING on the target, MIGRATING on the source, MIGRATE of its
# keys in batches (between->() after the first batch, while the slot is
# half moved: ASK time), then SETSLOT NODE on the target, the source and
# every other primary.  Returns 1 on success.
sub migrate_slot {
    my ($self, $slot, $to, %o) = @_;
    my $from = $self->owner($slot) // return 0;
    return 1 if $from == $to;
    my $from_id = $self->_node_id($from);
    my $to_id = $self->_node_id($to);
    my ($r, $e);
    ($r, $e) = $self->node_cmd($to, 'CLUSTER', 'SETSLOT', $slot,
                               'IMPORTING', $from_id);
    return $self->_fail("IMPORTING: $e") if $e;
    ($r, $e) = $self->node_cmd($from, 'CLUSTER', 'SETSLOT', $slot,
                               'MIGRATING', $to_id);
    return $self->_fail("MIGRATING: $e") if $e;
    my $batch = $o{batch} // 10;
    my $first = 1;
    while (1) {
        my $keys = $self->node_cmd($from, 'CLUSTER', 'GETKEYSINSLOT', $slot,
                                   $batch);
        last unless ref $keys eq 'ARRAY' && @$keys;
        my @a = ('MIGRATE', '127.0.0.1', $to, '', 0, 5000);
        push @a, 'AUTH', $self->{password} if defined $self->{password};
        ($r, $e) = $self->node_cmd($from, { timeout => 10 }, @a, 'KEYS',
                                   @$keys);
        return $self->_fail("MIGRATE: $e") if $e;
        if ($first && $o{between}) {
            $o{between}->();
        }
        $first = 0;
        sleep $o{pause} if $o{pause};
    }
    $o{between}->() if $first && $o{between};
    $o{moved_keys}->() if $o{moved_keys};
    for my $p ($to, $from, grep { $_ != $to && $_ != $from }
               $self->primaries)
    {
        ($r, $e) = $self->node_cmd($p, 'CLUSTER', 'SETSLOT', $slot, 'NODE',
                                   $to_id);
        return $self->_fail("SETSLOT NODE on $p: $e") if $e;
    }
    $self->flush_slot_cache;
    return 1;
}

sub _fail { $_[0]{error} = $_[1]; return 0 }

sub stop {
    my ($self) = @_;
    return unless $self->{owner} == $$;
    my @pids = values %{$self->{pids}};
    kill 'CONT', @pids;
    kill 'TERM', @pids;
    for my $pid (@pids) {
        unless (_wait_pid($pid, 10)) {
            kill 'KILL', $pid;
            _wait_pid($pid, 3);
        }
    }
    $self->{pids} = {};
    $self->{conns} = {};
}

sub DESTROY { $_[0]->stop }

1;
