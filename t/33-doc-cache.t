#!/usr/bin/perl

# The cache of known stored documents that the workers of one nginx
# share (scim_doc_cache, issue 13): a PATCH or PUT of a document a worker
# has just read or written
# is one script call (no read first); a text changed behind the cache
# (another nginx, a restored backup with the same version tail) is never
# written over: the write goes on from the current text; If-Match against
# a stale cached version; two nginx patching one user lose no change;
# "groups" of the answer as a GET shows them; scim_doc_cache off; the
# directive in nginx -t; two workers, one cache; a reload; a full cache.
#
# Five nginx on one Redis: $t (the cache on, by default), $t2 (on:
# "another client") and $t3 (off), one worker each; $t4 with two workers
# (one cache); $t5 with a cache of two entries.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use ScimTest;

my $t = ScimTest->new(workers => 1);
# the other nginx use the same Redis (the seeds of a cluster)
my $REDIS = $t->cluster ? $t->cluster->seeds : '127.0.0.1:' . $t->redis_port;
my $P = 'scim:{acme}:';

sub conf {
    my ($x, $http) = @_;
    (my $c = $x->standard_conf(http_extra => $http // '')) =~
        s/%%REDIS%%/$REDIS/g;
    return $c;
}

sub instance {
    my ($http) = @_;
    my $x = ScimTest->new(workers => 1, redis => 0);
    $x->token($t->token);
    $x->write_file('tokens', "# test tokens\n" . $t->token . "\n");
    $x->write_config(conf($x, $http));
    $x->start_nginx_ok;
    return $x;
}

# ------------------------------------------------------- the directive

for my $c (['scim_doc_cache 0;', 0], ['scim_doc_cache abc;', 0],
           ['scim_doc_cache 10 20;', 0], ['scim_doc_cache 2048;', 1],
           ['scim_doc_cache 262144;', 1], ['scim_doc_cache 262145;', 0],
           ['scim_doc_cache off;', 1],
           ["scim_doc_cache 10;\nscim_doc_cache 20;", 0])
{
    my ($ok, $out) = $t->nginx_t(conf($t, $c->[0]));
    (my $d = $c->[0]) =~ s/\n/ /g;
    is($ok, $c->[1], "nginx -t: $d " . ($c->[1] ? 'accepted' : 'refused'))
        or diag $out;
}
{
    (my $in_loc = conf($t)) =~ s/(scim_tenant acme;)/$1\n        scim_doc_cache 10;/;
    my ($ok, $out) = $t->nginx_t($in_loc);
    ok(!$ok && $out =~ /"scim_doc_cache" directive is not allowed here/,
       'nginx -t: scim_doc_cache in a location refused') or diag $out;
}

$t->write_config(conf($t));
$t->start_nginx_ok;
my $t2 = instance();
my $t3 = instance('scim_doc_cache off;');

# the script calls a client made while $code ran (EVALSHA, EVAL, FCALL):
# a script's own commands are not among them
sub scripts {
    my ($code) = @_;
    my $seen = $t->redis_monitor($code);
    return scalar grep { $_->[0] =~ /^(?:EVALSHA|EVAL|FCALL|FCALL_RO)$/ } @$seen;
}

sub user {
    my ($x, %o) = @_;
    my $r = $x->post('Users', entra_user(%o));
    is($r->{status}, 201, 'a user created') or diag $r->{content};
    return $r->{json}{id} // 'none';
}

sub group {
    my ($x, $name, @members) = @_;
    my $r = $x->post('Groups', { schemas => [URN_GROUP], displayName => $name,
                                 members => [map { { value => $_ } } @members] });
    is($r->{status}, 201, "group $name created") or diag $r->{content};
    return $r->{json}{id} // 'none';
}

sub title {
    my ($x, $id, $v, %o) = @_;
    return $x->patch("Users/$id", patch_body({ op => 'replace', path => 'title',
                                               value => $v }), %o);
}

# --------------------------------------- a PATCH after a read: one call

# created by $t2: $t has never seen it
my $mgr = user($t2, displayName => 'The Boss');
my $id = user($t2, URN_ENT() => { manager => $mgr, department => 'D1' });
my $g1 = group($t2, 'Cache Team A', $id);
my $g2 = group($t2, 'Cache Team B', $id);

is(scripts(sub { title($t, $id, 'Before') }), 2,
   'a PATCH of a user this worker never saw: read, then write');
my $get = $t->get("Users/$id");
my $r;
is(scripts(sub { $r = title($t, $id, 'One') }), 1,
   'a PATCH after a GET: one script call, no read before the write');
is($r->{status}, 200, '... 200');
is($r->{json}{title}, 'One', '... the change');
is_deeply([sort map { $_->{value} } @{ $r->{json}{groups} // [] }],
          [sort $g1, $g2], '... the answer shows the user\'s groups');
is($r->{json}{+URN_ENT}{manager}{displayName}, 'The Boss',
   '... and the manager\'s displayName');
my $after = $t->get("Users/$id");
is($r->{content}, $after->{content},
   'the answer is byte for byte what a GET shows now');
is($r->{headers}{etag}, $after->{headers}{etag}, '... the same ETag');
is(scripts(sub { $r = title($t, $id, 'Two') }), 1,
   'a PATCH after a PATCH: one call');

# the same with a projection (the general path builds "groups")
$r = $t->patch("Users/$id?attributes=groups,title,userName",
               patch_body({ op => 'replace', path => 'title', value => 'Four' }));
my $g = $t->get("Users/$id?attributes=groups,title,userName");
is($r->{status}, 200, 'a PATCH with attributes=');
is_deeply($r->{json}, $g->{json}, '... answers what a GET shows');
ok(@{ $r->{json}{groups} // [] } == 2, '... two groups in it');

# the Entra read: GET by userName, then PATCH
my $un = unique_name('entra');
my $eid = user($t2, userName => $un);
$r = $t->list(filter => qq(userName eq "$un"));
is_list_response($r, 1, 1, 'filter userName eq: one user');
is(scripts(sub { $r = title($t, $eid, 'After filter') }), 1,
   'a PATCH after a userName eq filter: one call');
is($r->{status}, 200, '... 200');

# a create, then a PATCH (the create's text is known)
my $cid = user($t);
is(scripts(sub { $r = title($t, $cid, 'After create') }), 1,
   'a PATCH after a create: one call');

# ------------------------------ a text changed behind the cache: no loss

# another nginx changes the user
$t->get("Users/$id");
$r = title($t2, $id, 'Changed by t2');
is($r->{status}, 200, 'another nginx changes the user');
is(scripts(sub {
    $r = $t->patch("Users/$id", patch_body({ op => 'replace',
        path => URN_ENT . ':department', value => 'D2' }));
}), 2, 'a PATCH of a stale cached text: the write, refused, then the '
       . 'write from the text it brought back (no extra read)');
is($r->{status}, 200, '... 200');
is($r->{json}{title}, 'Changed by t2', '... the other nginx\'s change kept');
is($r->{json}{+URN_ENT}{department}, 'D2', '... and this one made');

# a restored backup: the same version tail, another text
$t->get("Users/$id");
my $stored = $t->redis_doc($P, 'User', $id);
(my $restored = $stored) =~ s/"givenName":"Given"/"givenName":"Restored"/;
isnt($restored, $stored, 'a text of the same version with another givenName');
$t->redis_cmd('HSET', "${P}User:docs", $id, $restored);
is(scripts(sub { $r = title($t, $id, 'After restore') }), 2,
   'a PATCH of a text the cache knows with the same version: two calls');
is($r->{status}, 200, '... 200');
is($r->{json}{name}{givenName}, 'Restored',
   '... applied to the current text, not the cached one');
is($r->{json}{title}, 'After restore', '... the change made');
like($t->redis_doc($P, 'User', $id), qr/"givenName":"Restored".*"title":"After restore"/,
     '... both in Redis');

# If-Match with a stale cached version
$t->get("Users/$id");
my ($v1) = ($t->get("Users/$id")->{headers}{etag} // '') =~ /"(\d+)"/;
$r = title($t2, $id, 'Moved on');
my ($v2) = ($r->{headers}{etag} // '') =~ /"(\d+)"/;
ok($v1 && $v2 && $v2 > $v1, "another nginx moved the user from $v1 to $v2");
$r = title($t, $id, 'If-Match current', headers => { 'If-Match' => qq(W/"$v2") });
is($r->{status}, 200, 'If-Match with the current version, the cache holding '
   . 'the one before: 200 (the stored version decides)') or diag $r->{content};
my ($v3) = ($r->{headers}{etag} // '') =~ /"(\d+)"/;
$r = title($t2, $id, 'Moved again');
is($r->{status}, 200, 'another nginx changes it again');
$r = title($t, $id, 'If-Match stale', headers => { 'If-Match' => qq(W/"$v3") });
is_scim_error($r, 412, undef,
              'If-Match with the version this worker cached, stale: 412');
is($t->get("Users/$id")->{json}{title}, 'Moved again', '... nothing written');

# --------------------------------------------------------------- PUT

my $pw = 'Secret-' . int(rand(1e9)) . '-Pw';
my $pid = $t->post('Users', { schemas => [URN_USER], userName => unique_name('put'),
                              password => $pw, title => 'T0' })->{json}{id} // 'none';
my $hash = ($t->redis_doc($P, 'User', $pid) // '') =~ /"password":"([^"]+)"/ ? $1 : '';
like($hash, qr/^\$argon2id\$/, 'a user with a password');
$t->get("Users/$pid");
my $body = $t->get("Users/$pid")->{json};
delete @$body{qw(meta groups)};
$body->{title} = 'T1';
is(scripts(sub { $r = $t->put("Users/$pid", $body) }), 1, 'a PUT after a GET: one call');
is($r->{status}, 200, '... 200');
is($r->{json}{title}, 'T1', '... the change');
is(($t->redis_doc($P, 'User', $pid) // '') =~ /"password":"([^"]+)"/ ? $1 : '', $hash,
   '... the password kept as hashed');
is($r->{content}, $t->get("Users/$pid")->{content}, '... answers what a GET shows');

# ------------------------------------------------------ a group PATCH

my $gid = group($t2, 'Cache Group', $id, $cid);
$t->get("Groups/$gid?excludedAttributes=members");
is(scripts(sub {
    $r = $t->patch("Groups/$gid", patch_body({ op => 'replace',
                                               path => 'displayName',
                                               value => 'Cache Group 2' }));
}), 1, 'a group PATCH of its displayName after a GET: one call');
is($r->{status}, 204, '... 204');
$r = $t->get("Groups/$gid");
is($r->{json}{displayName}, 'Cache Group 2', '... the new name');
is(scalar @{ $r->{json}{members} // [] }, 2, '... the members kept');
# behind the cache: a member-only PATCH by another nginx changes the text
$r = $t2->patch("Groups/$gid", patch_body({ op => 'remove',
                                            path => qq(members[value eq "$cid"]) }));
is($r->{status}, 204, 'another nginx removes a member');
$r = $t->patch("Groups/$gid", patch_body({ op => 'replace', path => 'externalId',
                                           value => 'gx' }));
is($r->{status}, 204, 'a group PATCH from a stale cached text: 204');
$r = $t->get("Groups/$gid");
is_deeply([map { $_->{value} } @{ $r->{json}{members} // [] }], [$id],
          '... the other nginx\'s change kept');
is($r->{json}{externalId}, 'gx', '... and this one made');
my ($gv) = ($r->{headers}{etag} // '') =~ /"(\d+)"/;
$r = $t->put("Groups/$gid", { schemas => [URN_GROUP], displayName => 'Cache Group 3',
                              members => [{ value => $cid }] });
is($r->{status}, 200, 'a group PUT');
is_deeply([map { $_->{value} } @{ $r->{json}{members} // [] }], [$cid],
          '... members replaced');

# --------------------------------------------------------- DELETE

$t->get("Users/$cid");
is($t->del("Users/$cid")->{status}, 204, 'a DELETE');
is_scim_error(title($t, $cid, 'x'), 404, undef, '... then a PATCH: 404');
$t->get("Users/$eid");
is($t2->del("Users/$eid")->{status}, 204, 'a DELETE by another nginx');
is_scim_error(title($t, $eid, 'x'), 404, undef,
              '... then a PATCH of the cached text: 404');

# --------------------------------------------------- scim_doc_cache off

$t3->get("Users/$id");
is(scripts(sub { $r = title($t3, $id, 'Off') }), 2,
   'scim_doc_cache off: a PATCH after a GET reads first');
is($r->{status}, 200, '... 200');
is($r->{content}, $t3->get("Users/$id")->{content},
   '... the same answer as a GET');

# ----------------------------- two nginx patching one user: nothing lost

my $sid = user($t);
my $N = 200;
my $res = $t->parallel(2, sub {
    my ($i) = @_;
    my $x = $i ? $t2 : $t;
    my ($ok, $bad) = (0, '');
    for my $n (1 .. $N) {
        my $q = $x->patch("Users/$sid", patch_body({ op => 'add', path => 'roles',
                                                     value => [{ value => "r$i-$n" }] }),
                          timeout => 30);
        if ($q->{status} == 200) { $ok++ } else { $bad = "$q->{status} $q->{content}" }
    }
    return { ok => $ok, bad => $bad };
}, timeout => 240);
is($res->[$_]{ok}, $N, "nginx $_: $N PATCHes answered 200")
    or diag explain $res->[$_] for 0, 1;
my @roles = map { $_->{value} } @{ $t->get("Users/$sid")->{json}{roles} // [] };
my %have = map { $_ => 1 } @roles;
my @lost = grep { !$have{$_} } map { my $i = $_; map { "r$i-$_" } 1 .. $N } 0, 1;
is(scalar @lost, 0, 'every value of the 2 x 200 PATCHes is there')
    or diag "lost: @lost[0 .. ($#lost < 9 ? $#lost : 9)]";
is(scalar @roles, 2 * $N, '... once each');

# ------------- two workers of one nginx: one cache (shared memory)

# a text either worker read or wrote is the other's too: every PATCH is
# one call, whichever worker wrote last; a GET on one worker and a PATCH
# on the other (Entra's check, then its change, on two connections) too
my $t4 = ScimTest->new(workers => 2, redis => 0);
$t4->token($t->token);
$t4->write_file('tokens', "# test tokens\n" . $t->token . "\n");
(my $c4 = $t4->standard_conf(extra => '        add_header X-Pid $pid always;'))
    =~ s/%%REDIS%%/$REDIS/g;
$c4 =~ s/(listen 127\.0\.0\.1:%%PORT%%);/$1 reuseport;/ or die 'no listen line';
$t4->write_config($c4);
$t4->start_nginx_ok;
$r = $t4->post('Users', entra_user(), keepalive => 0);
is($r->{status}, 201, 'a user created through a 2-worker nginx');
my $wid = $r->{json}{id} // 'none';
my $last = $r->{headers}{'x-pid'} // '';
my (%seen, @bad, %cases);
for my $n (1 .. 40) {
    my $q;
    my $mon = $t->redis_monitor(sub { $q = title($t4, $wid, "W$n", keepalive => 0) });
    my @s = grep { $_->[0] =~ /^(?:EVALSHA|EVAL|FCALL|FCALL_RO)$/ } @$mon;
    my $pid = $q->{headers}{'x-pid'} // '?';
    push @bad, "PATCH $n: $q->{status}" if $q->{status} != 200;
    $seen{$pid}++;
    $cases{$last eq $pid ? 'own' : 'other'}++;
    push @bad, "PATCH $n: " . ($last eq $pid ? 'its own' : 'the other worker\'s')
        . " last write, " . scalar(@s) . " calls" if @s != 1;
    $last = $pid;
}
is(scalar keys %seen, 2, 'both workers served the PATCHes')
    or diag explain \%seen;
ok($cases{own} && $cases{other}, 'PATCHes after a worker\'s own write and '
   . 'after the other\'s: ' . join(', ', map { "$_ $cases{$_}" } sort keys %cases));
is_deeply(\@bad, [], 'every PATCH one call, whichever worker wrote last');
is($t4->get("Users/$wid")->{json}{title}, 'W40', 'the last PATCH is there');

# a user created by another nginx: read by a GET on one worker, then
# PATCHed on whichever worker takes the next connection
my (@reads, %readers);
for my $n (1 .. 12) {
    my $uid = user($t2, userName => "shared-$n\@example.com");
    my $g = $t4->get("Users/$uid", keepalive => 0);
    my $q;
    my $calls = scripts(sub { $q = title($t4, $uid, "S$n", keepalive => 0) });
    $readers{($g->{headers}{'x-pid'} // '') eq ($q->{headers}{'x-pid'} // '')
             ? 'same' : 'other'}++;
    push @reads, "user $n: $q->{status}, $calls calls"
        if $q->{status} != 200 || $calls != 1;
}
is_deeply(\@reads, [], 'a GET on one worker, a PATCH on either: one call '
          . '(' . join(', ', map { "$_ worker $readers{$_}" } sort keys %readers) . ')');

# a reload keeps the zone but not its entries (a new configuration's
# stores): the first PATCH after it reads, the next one does not
ok($t4->reload(wait_old => 1), 'reload');
is(scripts(sub { title($t4, $wid, 'After reload', keepalive => 0) }), 2,
   'after a reload: read, then write');
is(scripts(sub { title($t4, $wid, 'After reload 2', keepalive => 0) }), 1,
   '... then one call');
is($t4->get("Users/$wid")->{json}{title}, 'After reload 2', '... and written');

# ------------------- a full cache: the least recently used make room

my $t5 = instance('scim_doc_cache 2;');
my @ids = map { user($t2, userName => "lru-$_\@example.com") } 1 .. 3;
$t5->get("Users/$_") for @ids;               # the first one is pushed out
is(scripts(sub { title($t5, $ids[0], 'L0') }), 2,
   'scim_doc_cache 2: the least recently read of three users is read again');
is(scripts(sub { title($t5, $ids[2], 'L2') }), 1, '... the most recent not');
my $big = user($t2, userName => 'lru-big@example.com',
               roles => [map { { value => "role-$_-" . ('x' x 200) } } 1 .. 60]);
$t5->get("Users/$big");
is(scripts(sub { title($t5, $big, 'Big') }), 1,
   'a text of 13 KB is cached (it makes room)');
my $huge = user($t2, userName => 'lru-huge@example.com',
                roles => [map { { value => "role-$_-" . ('x' x 200) } } 1 .. 90]);
$t5->get("Users/$huge");
is(scripts(sub { title($t5, $huge, 'Huge') }), 2,
   'a text over 16 KB is not cached');
is($t5->get("Users/$huge")->{json}{title}, 'Huge', '... and written all the same');

$t5->stop_nginx;
$t4->stop_nginx;
$t2->stop_nginx;
$t3->stop_nginx;
$t5->no_alerts_since(0, 'fifth nginx: no alert');
$t4->no_alerts_since(0, 'fourth nginx: no alert');
$t2->no_alerts_since(0, 'second nginx: no alert');
$t3->no_alerts_since(0, 'third nginx: no alert');
$t->finish;
