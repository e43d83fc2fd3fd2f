#!/usr/bin/perl

# Chaos on a Redis Cluster (issue 9), always on a local cluster of its
# own (3 primaries + 3 replicas, t/lib/ScimCluster.pm), nginx with
# "scim_redis_wait 1 1s" and the tenant from a header (50 tenants).
#
# Four forked clients keep a steady write load: each loops over create a
# user, PATCH its displayName, add it to one of its tenant's two groups,
# delete one, on a random tenant (a quarter of the time the busy one),
# and records every acknowledged write (2xx) with what it wrote, and
# every 503 with its time.  Meanwhile the test moves the busy tenant's
# slot to another primary (SETSLOT, MIGRATE, SETSLOT NODE: ASK and MOVED
# under load), then cuts that primary's replica off (SIGSTOP, its
# replication connection killed: a partition) for 1.5 s and kills the
# primary with SIGKILL: the replica, resumed, takes over without what
# the primary wrote meanwhile, and the old primary comes back as the new
# one's replica (until then no write can be confirmed by a replica:
# 503).  Without scim_redis_wait (SCIM_CHAOS_NO_WAIT=1, which counts the
# lost writes instead of failing on them) that loses acknowledged
# writes; with it, none.
#
# Asserted: every answer that is not 2xx is a SCIM 503 with Retry-After
# (never a 500, never HTML, no client error); writes resume after each
# event; no acknowledged write is lost (every acknowledged create and
# update reads back as written, every acknowledged member add shows in
# its group, every acknowledged delete is gone); every tenant's indexes
# and member sets match its documents (t/lib/ScimCheck.pm), which a
# corrupted tenant shows it can see.  Printed (diag): writes
# acknowledged, 503s, the longest interval of 503s per tenant and
# overall, the time the failover took.

use strict;
use warnings;

use lib 't/lib';
use ScimTest;
use ScimCluster;
use ScimCheck;
use Test::More;
use Time::HiRes qw(time sleep);
use POSIX ();

plan(skip_all => 'redis-server or redis-cli not found')
    unless ScimCluster->available;

my $t = ScimTest->new(workers => 2, cluster => 1, timeout => 300);
my $c = $t->cluster;
my @primaries = $c->primaries;
my @replicas = $c->replicas;
ok(@primaries == 3 && @replicas == 3, 'a cluster of 3 primaries and 3 '
   . 'replicas');

# SCIM_CHAOS_NO_WAIT=1: the same without scim_redis_wait, to see what
# it prevents (lost writes are then counted, not failed)
my $WAIT = !$ENV{SCIM_CHAOS_NO_WAIT};
$t->write_config(($WAIT ? "scim_redis_wait 1 1s;\n" : '') . <<'EOF');
scim_redis %%REDIS%%;
scim_redis_connect_timeout 1s;
scim_redis_timeout 3s;

server {
    listen 127.0.0.1:%%PORT%%;
    location /scim/v2/ {
        scim;
        scim_tenant $http_x_tenant;
        scim_bearer_token_file %%TOKEN_FILE%%;
    }
}
EOF
$t->start_nginx_ok;
# the failures provoked on purpose
$t->{allow_log} = qr/scim redis|cluster|not confirmed/;

my $NCLIENTS = 4;
my @TENANTS = map { sprintf('chaos%02d', $_) } 0 .. 49;
my $BUSY = $TENANTS[0];
my $busy_slot = $c->slot("{$BUSY}");
my $busy_from = $c->owner($busy_slot);
# the busy tenant's slot goes to the next primary, which is then killed
my $victim = (grep { $_ != $busy_from } @primaries)[0];
my ($victim_replica) = $c->replica_of($victim);
note("busy tenant $BUSY: slot $busy_slot on $busy_from, moved to $victim "
     . "(replica $victim_replica), which is then killed");

sub hdr { return (headers => { 'X-Tenant' => $_[0] }) }

# ------------------------------------------------------------ the writer

# One writer's state: users => {id => {T, un, dn => [acceptable
# displayNames], st => live|gone|maybe, g => {group => yes|maybe}}},
# live => {T => [ids]}, recs => [[t0, t1, T, op, status]], bad => [why],
# lost_creates => [[T, userName]] (503: may or may not exist).

my %groups;     # T => [group ids]

sub new_state {
    my ($i) = @_;
    return { i => $i, n => 0, users => {}, live => {}, recs => [],
             bad => [], amb => [] };
}

# a non-2xx answer: must be a SCIM 503 with Retry-After
sub check_503 {
    my ($s, $what, $r) = @_;
    my $j = $r->{json};
    return 1 if $r->{status} == 503
        && ($r->{headers}{'content-type'} // '') =~ m{application/scim\+json}
        && ref $j eq 'HASH' && ref $j->{schemas} eq 'ARRAY'
        && ($j->{schemas}[0] // '') eq URN_ERROR
        && ($j->{status} // '') eq '503'
        && defined $r->{headers}{'retry-after'};
    push @{$s->{bad}}, "$what: $r->{status} "
        . ($r->{error} // substr($r->{content} // '', 0, 200));
    return 0;
}

sub pick_live {
    my ($s, $T) = @_;
    my $l = $s->{live}{$T} // [];
    return undef unless @$l;
    return $l->[int rand @$l];
}

sub drop_live {
    my ($s, $T, $id) = @_;
    $s->{live}{$T} = [ grep { $_ ne $id } @{$s->{live}{$T}} ];
}

# one write on tenant T: create | patch | member | delete; returns the
# status
sub write_op {
    my ($s, $T, $op) = @_;
    my $id = $op eq 'create' ? undef : pick_live($s, $T);
    $op = 'create' unless defined $id;
    my $n = ++$s->{n};
    my ($r, $u);
    my $t0 = time;
    if ($op eq 'create') {
        my $un = "User-$s->{i}-$n\@Chaos.Example.com";
        my $dn = "User $s->{i} $n";
        $r = $t->post('Users', { schemas => [URN_USER], userName => $un,
                                 displayName => $dn,
                                 externalId => "x-$s->{i}-$n",
                                 emails => [{ value => $un, type => 'work' }] },
                      hdr($T));
        if ($r->{status} == 201 && ref $r->{json} eq 'HASH'
            && defined $r->{json}{id})
        {
            $id = $r->{json}{id};
            $s->{users}{$id} = { T => $T, un => $un, dn => [$dn],
                                 st => 'live', g => {} };
            push @{$s->{live}{$T}}, $id;
        } elsif ($r->{status} == 201) {
            push @{$s->{bad}}, "create: 201 without an id";
        } else {
            push @{$s->{amb}}, [$T, $un] if check_503($s, "create $T", $r);
        }
    } elsif ($op eq 'patch') {
        $u = $s->{users}{$id};
        my $dn = "Renamed $s->{i} $n";
        $r = $t->patch("Users/$id", patch_body({ op => 'replace',
                       path => 'displayName', value => $dn }), hdr($T));
        if ($r->{status} == 200 || $r->{status} == 204) {
            $u->{dn} = [$dn];
        } elsif (check_503($s, "patch $T $id", $r)) {
            push @{$u->{dn}}, $dn;
        }
    } elsif ($op eq 'member') {
        $u = $s->{users}{$id};
        my $g = $groups{$T}[int rand @{$groups{$T}}];
        $r = $t->patch("Groups/$g", patch_body({ op => 'add',
                       path => 'members', value => [{ value => $id }] }),
                       hdr($T));
        if ($r->{status} == 200 || $r->{status} == 204) {
            $u->{g}{$g} = 'yes';
        } elsif (check_503($s, "member $T $g $id", $r)) {
            $u->{g}{$g} //= 'maybe';
        }
    } else {
        $u = $s->{users}{$id};
        $r = $t->del("Users/$id", hdr($T));
        if ($r->{status} == 204) {
            $u->{st} = 'gone';
        } elsif (check_503($s, "delete $T $id", $r)) {
            $u->{st} = 'maybe';
        }
        drop_live($s, $T, $id);
    }
    push @{$s->{recs}}, [$t0, time, $T, $op, $r->{status}];
    return $r->{status};
}

sub random_op {
    my ($s) = @_;
    my $T = rand() < 0.25 ? $BUSY : $TENANTS[int rand @TENANTS];
    my $x = rand();
    my $op = $x < 0.35 ? 'create' : $x < 0.6 ? 'patch'
           : $x < 0.88 ? 'member' : 'delete';
    return write_op($s, $T, $op);
}

# ------------------------------------------------------------- the setup

my $main = new_state('m');
my $setup_ok = 1;
for my $T (@TENANTS) {
    for my $k (1, 2) {
        my $r = $t->post('Groups', { schemas => [URN_GROUP],
                                     displayName => "Group $k of $T" },
                         hdr($T));
        $setup_ok = 0 unless $r->{status} == 201;
        push @{$groups{$T}}, $r->{json}{id} // 'none';
    }
}
# the busy tenant holds some data when its slot moves
for (1 .. 100) {
    $setup_ok = 0 unless write_op($main, $BUSY, 'create') == 201;
}
write_op($main, $BUSY, 'member') for 1 .. 50;
ok($setup_ok && !@{$main->{bad}}, '50 tenants, 2 groups each; 100 users '
   . "in the busy tenant $BUSY") or diag explain $main->{bad};

# --------------------------------------------------------- the clients

my $stop = $t->dir . '/stop';
my @kids;
for my $i (1 .. $NCLIENTS) {
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        alarm(200);
        $SIG{ALRM} = sub { POSIX::_exit(3) };
        $t->{conn} = {};
        $c->{conns} = {};
        srand($$ ^ time);
        my $s = new_state($i);
        until (-e $stop) {
            random_op($s);
            sleep 0.01;
        }
        if (open my $fh, '>:raw', $t->dir . "/client-$i.json") {
            print $fh json_encode($s);
            close $fh;
        }
        POSIX::_exit(0);
    }
    push @kids, $pid;
}
END { kill 'KILL', @kids if @kids && $t && $t->{owner} == $$ }

# a write on T by this process until one is acknowledged
sub resumes {
    my ($T, $secs) = @_;
    my $deadline = time + $secs;
    while (time < $deadline) {
        my $st = write_op($main, $T, 'create');
        return time if $st == 201;
        sleep 0.1;
    }
    return undef;
}

sleep 3;

# ------------------------------------ the busy tenant's slot moves

my %ev;
my $move_mark = $t->log_mark;
$ev{move0} = time;
ok($c->migrate_slot($busy_slot, $victim, batch => 4, pause => 0.2),
   "the busy tenant's slot $busy_slot moved from $busy_from to $victim "
   . 'under load') or diag $c->error;
$ev{move1} = time;
is($c->owner($busy_slot), $victim, "... $victim serves it");
ok(resumes($BUSY, 30), 'writes to the busy tenant go on after the move');
my $move_log = $t->log_since($move_mark);
my %redir = (ASK => scalar(() = $move_log =~ /\(ASK from/g),
             MOVED => scalar(() = $move_log =~ /\(MOVED from/g));

# the moved keys on the replica before the kill (MIGRATE's RESTOREs
# reach it asynchronously, as any write: without that, the kill could
# lose them whatever the module does)
{
    my $info = $c->node_cmd($victim, 'INFO', 'replication') // '';
    my ($off) = $info =~ /master_repl_offset:(\d+)/;
    my $synced;
    my $deadline = time + 30;
    while (defined $off && time < $deadline) {
        my $ri = $c->node_cmd($victim_replica, 'INFO', 'replication') // '';
        my ($roff) = $ri =~ /slave_repl_offset:(\d+)/;
        last if $synced = defined $roff && $roff >= $off;
        sleep 0.05;
    }
    ok($synced, "the replica $victim_replica has what $victim had after "
       . 'the move');
}

sleep 2;

# ------------------------------------------------- a primary killed

my @affected = grep { ($c->owner($c->slot("{$_}")) // 0) == $victim }
               @TENANTS;
note(scalar(@affected) . " tenants on $victim: @affected");
# the replica has lost its link when its primary dies (stopped, its
# replication connection cut, as a network partition would): what the
# primary writes meanwhile never reaches it, which is what a failover
# loses without WAIT (with scim_redis_wait those writes get 503)
$c->signal($victim_replica, 'STOP');
$c->node_cmd($victim, 'CLIENT', 'KILL', 'TYPE', 'replica');
sleep 1.5;
$ev{kill} = time;
$c->kill_node($victim);
$c->signal($victim_replica, 'CONT');
{
    my $deadline = time + 40;
    while (time < $deadline) {
        my $role = $c->node_cmd($victim_replica, 'ROLE');
        if (ref $role eq 'ARRAY' && ($role->[0] // '') eq 'master') {
            $ev{promoted} = time;
            last;
        }
        sleep 0.05;
    }
}
ok($ev{promoted}, sprintf("primary $victim killed (SIGKILL): its replica "
   . "$victim_replica took over after %.1f s",
   ($ev{promoted} // time) - $ev{kill}));
# back as the replica of the new primary: writes can be confirmed again
ok($c->restart_node($victim), "$victim restarted");
ok($c->wait_ok(40, replicas => 1), '... as a replica, in sync')
    or diag $c->{why};
$ev{rejoined} = time;
{
    my @stuck;
    for my $T (@affected) {
        push @stuck, $T unless resumes($T, 30);
    }
    ok(@affected && !@stuck, 'writes go on for each of the '
       . scalar(@affected) . " tenants that were on $victim")
        or diag "no write acknowledged: @stuck";
}

sleep 2;
open my $fh, '>', $stop or die "$stop: $!";
close $fh;
for my $pid (@kids) {
    my $deadline = time + 40;
    while (time < $deadline) {
        last if waitpid($pid, POSIX::WNOHANG()) != 0;
        sleep 0.05;
    }
}
my @states = ($main);
for my $i (1 .. $NCLIENTS) {
    my $s = json_decode($t->read_file("client-$i.json") // 'null');
    ok(ref $s eq 'HASH', "client $i ran and reported");
    push @states, $s if ref $s eq 'HASH';
}
@kids = ();

# ------------------------------------------------------------ answers

my @recs = map { @{$_->{recs}} } @states;
my @bad = map { @{$_->{bad}} } @states;
# without scim_redis_wait, a lost user's later PATCH or DELETE gets 404,
# adding it to a group 400: the loss seen, not a bad answer
my $after_loss = 0;
unless ($WAIT) {
    my $n = @bad;
    @bad = grep { !/^(?:patch|delete) \S+ \S+: 404 |^member .*: 400 .*neither a user/ }
           @bad;
    $after_loss = $n - @bad;
}
is(scalar @bad, 0, 'every answer not 2xx was a SCIM 503 with Retry-After '
   . '(no 500, no HTML, no client error)')
    or diag join("\n", @bad[0 .. ($#bad < 20 ? $#bad : 19)]);

my %count;
$count{$_->[4] =~ /^2/ ? 'ok' : $_->[4]}++ for @recs;
my %by_op;
$by_op{"$_->[3] " . ($_->[4] =~ /^2/ ? 'ok' : $_->[4])}++ for @recs;

# ---------------------------------------------- lost writes: the API

# what the API shows of the tenants against what the writers were
# told: the lost writes, the users as listed, and for each create that
# got 503 whether it was stored anyway
sub lost_writes {
    my (@tenants) = @_;
    my %in = map { ($_ => 1) } @tenants;
    my (@lost, %doc_of, %members, %amb_found);
    for my $T (@tenants) {
        my ($start, $total) = (1, undef);
        while (1) {
            my $r = $t->get('Users?' . qs(startIndex => $start, count => 200),
                            hdr($T));
            last unless $r->{status} == 200 && ref $r->{json} eq 'HASH';
            $total = $r->{json}{totalResults};
            my $res = $r->{json}{Resources} // [];
            $doc_of{$_->{id}} = $_ for @$res;
            $start += @$res;
            last if !@$res || $start > $total;
        }
        push @lost, "tenant $T: the list of users failed" unless defined $total;
        for my $g (@{$groups{$T}}) {
            my $r = $t->get("Groups/$g", hdr($T));
            push @lost, "group $g of $T: $r->{status}"
                unless $r->{status} == 200;
            $members{$g} = { map { ($_->{value} => 1) }
                             @{ $r->{json}{members} // [] } };
        }
    }
    my %by_name = map { ($_->{userName} => 1) } values %doc_of;
    for my $s (@states) {
        for my $id (sort keys %{$s->{users}}) {
            my $u = $s->{users}{$id};
            next unless $in{$u->{T}};
            my $d = $doc_of{$id};
            if ($u->{st} eq 'gone') {
                push @lost, "$u->{T} $id: deleted (204), still there" if $d;
                push @lost, "$u->{T} $id: deleted (204), still in group $_"
                    for grep { $members{$_}{$id} } @{$groups{$u->{T}}};
                next;
            }
            if (!$d) {
                push @lost, "$u->{T} $id: created (201), gone"
                    if $u->{st} eq 'live';
                next;
            }
            push @lost, "$u->{T} $id: userName $d->{userName}, not $u->{un}"
                unless $d->{userName} eq $u->{un};
            push @lost, "$u->{T} $id: displayName \"$d->{displayName}\", "
                . 'not ' . join(' or ', map { "\"$_\"" } @{$u->{dn}})
                unless grep { $_ eq ($d->{displayName} // '') } @{$u->{dn}};
            for my $g (sort keys %{$u->{g}}) {
                push @lost, "$u->{T} $id: added to $g (2xx), not a member"
                    if $u->{g}{$g} eq 'yes' && !$members{$g}{$id};
            }
        }
        $amb_found{"$_->[0] $_->[1]"} = $by_name{$_->[1]} ? 1 : 0
            for grep { $in{$_->[0]} } @{$s->{amb}};
    }
    return (\@lost, \%doc_of, \%amb_found);
}

my ($lostp, $docsp, $ambp) = lost_writes(@TENANTS);
my @lost = @$lostp;
my %doc_of = %$docsp;
my %amb_found = %$ambp;
if ($WAIT) {
    is(scalar @lost, 0, 'no acknowledged write lost: every acknowledged '
       . 'create and update reads back, every member add shows, every '
       . 'delete is gone')
        or diag join("\n", @lost[0 .. ($#lost < 30 ? $#lost : 29)]);
} else {
    pass('without scim_redis_wait: ' . scalar(@lost) . ' acknowledged '
         . "writes lost ($after_loss writes on lost users: 404 or 400)");
}

# --------------------------------------------------------- consistency

my (@incons, %tot);
for my $T (@TENANTS) {
    my ($p, $st) = ScimCheck::check_tenant($t, $T,
        get => sub { $t->get($_[0], hdr($T)) });
    push @incons, map { "$T: $_" } @$p;
    $tot{$_} += $st->{$_} for keys %$st;
}
is(scalar @incons, 0, "every tenant's indexes and member sets match its "
   . "documents ($tot{users} users, $tot{groups} groups, "
   . "$tot{memberships} memberships, $tot{emails} e-mails)")
    or diag join("\n", @incons[0 .. ($#incons < 30 ? $#incons : 29)]);

# the lost-write check sees a user removed by hand (its document and
# its id: the API does not show it)
{
    my $P = "scim:{$BUSY}:";
    my ($id) = grep { $main->{users}{$_}{T} eq $BUSY
                      && $main->{users}{$_}{st} eq 'live' && $doc_of{$_} }
               reverse sort keys %{$main->{users}};
    $t->redis_cmd('HDEL', "${P}User:docs", $id // '');
    $t->redis_cmd('ZREM', "${P}User:ids", $id // '');
    my ($l) = lost_writes($BUSY);
    my $before = grep { /^\Q$BUSY\E / } @lost;
    ok($id && @$l == $before + 1
       && grep({ /\Q$id\E: created \(201\), gone/ } @$l),
       'the lost-write check sees an acknowledged create removed by hand')
        or diag explain $l;
}

# the checker sees a broken tenant: an index entry and a reverse
# membership removed by hand
{
    my $T = $BUSY;
    my $P = "scim:{$T}:";
    my ($id) = grep { $main->{users}{$_}{T} eq $BUSY
                      && $main->{users}{$_}{st} eq 'live' && $doc_of{$_} }
               sort keys %{$main->{users}};
    my $m = $t->redis_cmd('ZRANGE', "${P}memberof", 0, 0) // [];
    $t->redis_cmd('HDEL', "${P}User:idx:userName",
                  lc $main->{users}{$id // ''}{un}) if $id;
    $t->redis_cmd('ZREM', "${P}memberof", $m->[0]) if @$m;
    my ($p) = ScimCheck::check_tenant($t, $T);
    ok($id && @$m
       && (grep { /User:idx:userName: document \Q$id\E not indexed/ } @$p)
       && (grep { /^memberof: .* missing \(in members\)/ } @$p),
       'ScimCheck finds an index entry and a reverse membership removed '
       . 'by hand') or diag explain $p;
}

# ------------------------------------------------------------ figures

# runs of 503s per tenant: from the start of the first to the end of
# the last one before a 2xx
my (%longest, @runs);
{
    my %by_t;
    push @{$by_t{$_->[2]}}, $_ for @recs;
    for my $T (keys %by_t) {
        my $run;
        for my $x (sort { $a->[0] <=> $b->[0] } @{$by_t{$T}}) {
            if ($x->[4] == 503) {
                $run //= [$x->[0], $x->[1]];
                $run->[1] = $x->[1] if $x->[1] > $run->[1];
            } elsif ($run) {
                push @runs, [$T, @$run];
                $run = undef;
            }
        }
        push @runs, [$T, @$run] if $run;
    }
    for my $r (@runs) {
        my $len = $r->[2] - $r->[1];
        $longest{$r->[0]} = $len if $len > ($longest{$r->[0]} // -1);
    }
}
my ($worst) = sort { $longest{$b} <=> $longest{$a} } keys %longest;
# the first write sent after the kill to a tenant that was there to be
# acknowledged: its answer's time
my %aff = map { ($_ => 1) } @affected;
my ($first_ok) = sort { $a <=> $b } map { $_->[1] } grep {
    $aff{$_->[2]} && $_->[4] =~ /^2/ && $_->[0] > $ev{kill} } @recs;
# the time some tenant's writes failed: the union of the runs
my $down = 0;
{
    my ($from, $to);
    for my $r (sort { $a->[1] <=> $b->[1] } @runs) {
        if (defined $to && $r->[1] <= $to) {
            $to = $r->[2] if $r->[2] > $to;
            next;
        }
        $down += $to - $from if defined $to;
        ($from, $to) = ($r->[1], $r->[2]);
    }
    $down += $to - $from if defined $to;
}
my $span = (sort { $b <=> $a } map { $_->[1] } @recs)[0]
           - (sort { $a <=> $b } map { $_->[0] } @recs)[0];
my $namb = keys %amb_found;
my $namb_found = grep { $_ } values %amb_found;

diag(sprintf('%d writes in %.1f s by %d clients: %d acknowledged, %d 503',
             scalar @recs, $span, $NCLIENTS, $count{ok} // 0,
             $count{503} // 0));
diag(join(', ', map { "$_ $by_op{$_}" } sort keys %by_op));
diag(sprintf('acknowledged writes lost: %d (%s); tenants inconsistent: %d',
             scalar @lost, $WAIT ? 'scim_redis_wait 1 1s'
                                 : 'no scim_redis_wait', scalar @incons));
# the busy tenant's writes that overlapped the move
my @during = grep { $_->[2] eq $BUSY && $_->[1] >= $ev{move0}
                    && $_->[0] <= $ev{move1} } @recs;
diag(sprintf('slot move of the busy tenant (%d users): %.2f s, '
             . 'ASK followed %d times, MOVED %d times; its writes meanwhile: '
             . '%d, of which %d 503, the slowest %.2f s',
             scalar(grep { $_->{T} eq $BUSY } map { values %{$_->{users}} }
                    @states), $ev{move1} - $ev{move0}, $redir{ASK},
             $redir{MOVED}, scalar @during,
             scalar(grep { $_->[4] == 503 } @during),
             (sort { $b <=> $a } 0, map { $_->[1] - $_->[0] } @during)[0]));
diag(sprintf('failover: the replica cut off 1.5 s before; promoted %.1f s '
             . 'after the kill, old primary '
             . 'restarted and every replica in sync after %.1f s, first '
             . 'acknowledged write on its tenants after %.1f s',
             ($ev{promoted} // $ev{kill}) - $ev{kill},
             $ev{rejoined} - $ev{kill},
             ($first_ok // $ev{kill}) - $ev{kill}));
diag(sprintf('longest interval of 503s: %.2f s (tenant %s); some '
             . "tenant's writes failing: %.2f s in all; per tenant: %s",
             $worst ? $longest{$worst} : 0, $worst // 'none', $down,
             join(' ', map { sprintf('%s %.2f', $_, $longest{$_}) }
                  sort { $longest{$b} <=> $longest{$a} } keys %longest)
             || 'none'));
diag("creates answered 503: $namb, of which $namb_found were stored anyway "
     . '(the script ran, WAIT or the connection failed)');
diag("error.log: " . (() = $t->error_log =~ /write not confirmed/g)
     . ' writes not confirmed by a replica');

$t->finish;
