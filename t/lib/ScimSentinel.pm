package ScimSentinel;

# A Redis Sentinel set for the integration tests (core Perl only): one
# primary, its replicas and three Sentinels, each a redis-server of its
# own (forked, "daemonize no", so that they stay our children) on a free
# loopback port, with its files in the test's temp dir.  The Sentinels
# take down-after-milliseconds 1000 and a short failover-timeout, so a
# failover takes a few seconds.
#
#   use lib 't/lib';
#   use ScimTest;
#   use ScimSentinel;
#   my $t = ScimTest->new(workers => 2, redis => 0);
#   my $s = ScimSentinel->new($t, replicas => 2, sentinels => 3);
#                                   # skip_all without redis-server; gives
#                                   # up on the file if the set does not
#                                   # come up
#   $t->write_config(<<"EOF");      # scim_redis_sentinel ${\ $s->directive};
#   ...
#   my $old = $s->primary_port;     # as the Sentinels say
#   $s->failover;                   # SENTINEL FAILOVER, or:
#   $s->kill_primary;               # kill -9 of the primary's process
#   my $new = $s->wait_new_primary($old, 60);  # its port, undef if none
#   $s->cmd($port, 'GET', 'k');     # a command to a node or a Sentinel
#   $s->finish;                     # stops everything (also at END)
#
# API: new($t, name => 'mymaster', replicas => 1, sentinels => 3,
#   quorum => 2, down_after => 1000, failover_timeout => 3000,
#   sentinel_password => undef (the Sentinels' requirepass))
#   name directive ("mymaster 127.0.0.1:p1 ...") sentinel_ports
#   node_ports primary_port replica_ports cmd(port, @args) -> reply
#   (list context: (reply, error)) failover kill_primary kill_node(port)
#   signal_sentinels('STOP'|'CONT')
#   start_node(port) new_primary(old_port) wait_new_primary(old_port,
#   timeout) role(port)
#   wait_synced(timeout) finish

use strict;
use warnings;

use Test::More ();
use IO::Socket::INET;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(time sleep);

use ScimTest ();

our @SETS;

sub new {
    my ($class, $t, %o) = @_;

    my $self = bless {
        owner     => $$,
        t         => $t,
        dir       => $t->dir,
        name      => $o{name} // 'mymaster',
        nreplicas => $o{replicas} // 1,
        nsent     => $o{sentinels} // 3,
        quorum    => $o{quorum} // 2,
        down      => $o{down_after} // 1000,
        fo        => $o{failover_timeout} // 3000,
        password  => $o{sentinel_password},
        auth      => {},
        pids      => {},
        conn      => {},
    }, $class;

    $self->{server} = ScimTest::_which($ENV{SCIM_REDIS_SERVER}
                                       // 'redis-server');
    unless ($self->{server}) {
        Test::More::plan(skip_all => 'redis-server not found');
    }

    push @SETS, $self;

    my %taken;
    my $port = sub {
        for (1 .. 50) {
            my $p = $t->free_port;
            next if $taken{$p}++;
            return $p;
        }
        die "no free port";
    };

    $self->{nodes} = [ map { $port->() } 0 .. $self->{nreplicas} ];
    $self->{sentinels} = [ map { $port->() } 1 .. $self->{nsent} ];

    my $primary = $self->{nodes}[0];

    for my $i (0 .. $#{$self->{nodes}}) {
        my $p = $self->{nodes}[$i];
        my @extra = $i ? ('--replicaof', '127.0.0.1', $primary) : ();
        $self->start_node($p, @extra)
            or $t->abort("redis-server on $p does not start: "
                         . $t->tail("$self->{dir}/node-$p.log"));
    }

    $self->wait_synced(30)
        or $t->abort('the replicas do not sync: '
                     . $t->tail("$self->{dir}/node-$self->{nodes}[1].log"));

    my $pw = '';
    if (defined $self->{password}) {
        $pw = "requirepass $self->{password}\n"
            . "sentinel sentinel-pass $self->{password}\n";
        $self->{auth}{$_} = $self->{password} for @{$self->{sentinels}};
    }

    for my $p (@{$self->{sentinels}}) {
        $t->write_file("sentinel-$p.conf", $pw . <<"EOF");
port $p
bind 127.0.0.1
protected-mode no
daemonize no
dir $self->{dir}
logfile $self->{dir}/sentinel-$p.log
sentinel monitor $self->{name} 127.0.0.1 $primary $self->{quorum}
sentinel down-after-milliseconds $self->{name} $self->{down}
sentinel failover-timeout $self->{name} $self->{fo}
sentinel parallel-syncs $self->{name} 1
EOF
        $self->_spawn($p, [$self->{server}, "$self->{dir}/sentinel-$p.conf",
                           '--sentinel'], "$self->{dir}/sentinel-$p.out")
            or $t->abort("sentinel on $p does not start: "
                         . $t->tail("$self->{dir}/sentinel-$p.log"));
    }

    # every Sentinel knows the others and the replicas
    my $deadline = time + 60;
    my $ok;
    while (time < $deadline) {
        $ok = 1;
        for my $p (@{$self->{sentinels}}) {
            my $m = $self->_master_info($p);
            unless ($m && ($m->{'num-other-sentinels'} // -1)
                              == $self->{nsent} - 1
                    && ($m->{'num-slaves'} // -1) == $self->{nreplicas})
            {
                $ok = 0;
                last;
            }
        }
        last if $ok;
        sleep 0.2;
    }
    $t->abort('the sentinels do not see each other and the replicas: '
              . $t->tail("$self->{dir}/sentinel-$self->{sentinels}[0].log"))
        unless $ok;

    Test::More::note("sentinel set: primary $primary, replicas "
        . join(' ', @{$self->{nodes}}[1 .. $#{$self->{nodes}}])
        . ', sentinels ' . join(' ', @{$self->{sentinels}}));

    return $self;
}

sub name           { $_[0]{name} }
sub sentinel_ports { @{$_[0]{sentinels}} }
sub node_ports     { @{$_[0]{nodes}} }

# the arguments of scim_redis_sentinel
sub directive {
    my ($self) = @_;
    return join(' ', $self->{name},
                map { "127.0.0.1:$_" } @{$self->{sentinels}});
}

sub _spawn {
    my ($self, $port, $cmd, $out) = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $out;
        open STDERR, '>&', \*STDOUT;
        exec @$cmd or POSIX::_exit(127);
    }
    $self->{pids}{$port} = $pid;
    my $deadline = time + 15;
    while (time < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $self->{pids}{$port};
            return 0;
        }
        my ($r) = $self->cmd($port, 'PING');
        return 1 if defined $r && $r eq 'PONG';
        sleep 0.05;
    }
    return 0;
}

# a data node (again, after kill_node: it comes back as a primary, and
# the Sentinels make it a replica of the current one)
sub start_node {
    my ($self, $p, @extra) = @_;
    my $dir = $self->{dir};
    return $self->_spawn($p, [$self->{server}, '--port', $p,
        '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
        '--dir', $dir, '--dbfilename', "node-$p.rdb", '--daemonize', 'no',
        '--logfile', "$dir/node-$p.log", '--protected-mode', 'no',
        '--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0',
        @extra], "$dir/node-$p.out");
}

# A command over a raw RESP connection (kept per port): the reply
# (arrays as array refs), undef for nil or an error; list context:
# (reply, error).
sub cmd {
    my ($self, $port, @args) = @_;
    for my $try (1, 2) {
        my $s = $self->{conn}{$port};
        unless ($s) {
            $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                PeerPort => $port, Proto => 'tcp', Timeout => 2);
            return wantarray ? (undef, 'connect failed') : undef unless $s;
            binmode $s;
            if (defined $self->{auth}{$port}) {
                my ($r, $e) = ScimTest::_redis_io($s,
                    ['AUTH', $self->{auth}{$port}], 5);
                return wantarray ? (undef, "AUTH: $e") : undef if $e;
            }
            $self->{conn}{$port} = $s;
        }
        my ($r, $e) = ScimTest::_redis_io($s, \@args, 5);
        if (defined $e && $e =~ /^(?:EOF|write|timeout)/) {
            delete $self->{conn}{$port};
            next if $try == 1 && $e !~ /^timeout/;
        }
        return wantarray ? ($r, $e) : $r;
    }
    return wantarray ? (undef, 'failed') : undef;
}

sub _master_info {
    my ($self, $sp) = @_;
    my $r = $self->cmd($sp, 'SENTINEL', 'MASTER', $self->{name});
    return undef unless ref $r eq 'ARRAY';
    my %h = @$r;
    return \%h;
}

# ROLE of a node: 'master', 'slave' or undef (down)
sub role {
    my ($self, $port) = @_;
    my $r = $self->cmd($port, 'ROLE');
    return ref $r eq 'ARRAY' ? $r->[0] : undef;
}

# the primary's port, as the first Sentinel that answers says
sub primary_port {
    my ($self) = @_;
    for my $sp (@{$self->{sentinels}}) {
        my $r = $self->cmd($sp, 'SENTINEL', 'get-master-addr-by-name',
                           $self->{name});
        return $r->[1] if ref $r eq 'ARRAY';
    }
    return undef;
}

sub replica_ports {
    my ($self) = @_;
    my $p = $self->primary_port // -1;
    return grep { $_ != $p && $self->{pids}{$_} } @{$self->{nodes}};
}

# every replica of the primary linked and caught up
sub wait_synced {
    my ($self, $timeout) = @_;
    my $deadline = time + ($timeout // 30);
    while (time < $deadline) {
        my $ok = 1;
        for my $p (@{$self->{nodes}}) {
            next unless $self->{pids}{$p};
            my $info = $self->cmd($p, 'INFO', 'replication') // '';
            next if $info =~ /^role:master/m;
            $ok = 0 unless $info =~ /^master_link_status:up/m
                        && $info !~ /^master_sync_in_progress:1/m;
        }
        return 1 if $ok;
        sleep 0.1;
    }
    return 0;
}

# SENTINEL FAILOVER: the reply ("OK") or undef
sub failover {
    my ($self) = @_;
    for my $sp (@{$self->{sentinels}}) {
        my ($r, $e) = $self->cmd($sp, 'SENTINEL', 'FAILOVER', $self->{name});
        return $r if defined $r;
        Test::More::diag("SENTINEL FAILOVER on $sp: $e") if defined $e;
    }
    return undef;
}

# SENTINEL FAILOVER on one Sentinel, asked again while it answers
# NOGOODSLAVE or INPROG (its view of the replicas lags a previous
# failover) for up to $secs seconds; its reply, or undef
sub failover_on {
    my ($self, $sp, $secs) = @_;
    my $deadline = time + ($secs // 30);
    while (1) {
        my ($r, $e) = $self->cmd($sp, 'SENTINEL', 'FAILOVER', $self->{name});
        return $r if defined $r;
        if (time >= $deadline || ($e // '') !~ /NOGOODSLAVE|INPROG/) {
            Test::More::diag("SENTINEL FAILOVER on $sp: " . ($e // '?'));
            return undef;
        }
        select(undef, undef, undef, 0.5);
    }
}

sub kill_node {
    my ($self, $port) = @_;
    my $pid = delete $self->{pids}{$port} or return 0;
    kill 'KILL', $pid;
    waitpid($pid, 0);
    delete $self->{conn}{$port};
    return 1;
}

# a signal to every Sentinel (STOP, CONT); the number signalled.  A
# Sentinel stopped for more than 2 s goes into TILT mode for 30 s when
# continued: it answers, but does no failover meanwhile.
sub signal_sentinels {
    my ($self, $sig) = @_;
    my @pids = grep { defined } map { $self->{pids}{$_} }
               @{$self->{sentinels}};
    $self->{conn} = {} if $sig eq 'CONT';
    return kill $sig, @pids;
}

# kill -9 of the primary; its port
sub kill_primary {
    my ($self) = @_;
    my $p = $self->primary_port or return undef;
    $self->kill_node($p) or return undef;
    return $p;
}

# the port of a primary other than old_port that every Sentinel names and
# that says "master" itself, now; undef if none
sub new_primary {
    my ($self, $old) = @_;
    my %said;
    for my $sp (@{$self->{sentinels}}) {
        my $r = $self->cmd($sp, 'SENTINEL', 'get-master-addr-by-name',
                           $self->{name});
        $said{ref $r eq 'ARRAY' ? $r->[1] : 'none'}++;
    }
    my @p = keys %said;
    return $p[0] if @p == 1 && $p[0] ne 'none' && $p[0] != $old
                    && ($self->role($p[0]) // '') eq 'master';
    return undef;
}

# the same, waiting up to timeout seconds
sub wait_new_primary {
    my ($self, $old, $timeout) = @_;
    my $deadline = time + ($timeout // 60);
    while (time < $deadline) {
        my $p = $self->new_primary($old);
        return $p if defined $p;
        sleep 0.1;
    }
    return undef;
}

sub finish { $_[0]->_cleanup }

sub _cleanup {
    my ($self) = @_;
    return unless $self->{owner} == $$;
    my @pids = values %{$self->{pids}};
    $self->{pids} = {};
    kill 'TERM', @pids if @pids;
    for my $pid (@pids) {
        my $deadline = time + 5;
        while (time < $deadline && waitpid($pid, WNOHANG) == 0) {
            sleep 0.05;
        }
        if (waitpid($pid, WNOHANG) == 0) {
            kill 'KILL', $pid;
            waitpid($pid, 0);
        }
    }
}

END {
    my $rc = $?;
    $_->_cleanup for @SETS;
    $? = $rc;
}

1;
