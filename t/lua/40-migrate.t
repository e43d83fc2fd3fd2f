# tools/scim-migrate-layout: a tenant written in layout 1 (made here by
# hand from a reference tenant that create.lua wrote in layout 3) reads,
# once migrated, exactly as the reference: the same raw keys, byte for
# byte, and the same SCIM view through the scripts.  In bounded batches,
# idempotent, blind to other tenants (even one its tenant's name would
# match as a glob), and it keeps a document that layout 2 already holds.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use ScimTest;
use ScimLua;

my $t = ScimTest->new(module => 0);
my $tool = ScimTest->repo . '/tools/scim-migrate-layout';
my $port = $t->redis_port;

my $OLD = 'o[l]d*';                  # glob characters in the tenant
my $ref = ScimLua->new($t, 'ref');
my $old = ScimLua->new($t, $OLD);

# the reference, in layout 2
my @pool = map { sprintf('p%02d', $_) } 1 .. 27;
$ref->user('u1', 'Alice', ext => 'e1', emails => ['a@x.org', 'b@x.org']);
$ref->user('u2', 'Bob', manager => 'u1', emails => ['a@x.org']);
$ref->user('u3', 'Carol');
$ref->user($_, "Pool $_") for @pool;
$ref->group('g1', 'Inner', members => ['u1', 'u3'], ext => 'ge1');
$ref->group('g2', 'Outer', members => ['u1', 'u2', 'g1', @pool]);
$ref->group('g3', 'Top', members => ['g2', 'g1']);
$ref->group('g4', 'Empty');
my @users = ('u1', 'u2', 'u3', @pool);
my @groups = qw(g1 g2 g3 g4);

my @SHARED = qw(User:display Group:display User:manager User:idx:email
                User:ids Group:ids seq User:idx:userName User:idx:externalId
                Group:idx:displayName Group:idx:externalId);

# the same data in layout 1, by hand (its externalId indexes are hashes,
# externalId -> id, as in layout 2)
for my $k (@SHARED) {
    if ($k =~ /idx:externalId$/) {
        for my $e (@{ $t->redis_cmd('ZRANGE', $ref->key($k), 0, -1) }) {
            my ($x, $id) = split /\0/, $e;
            $t->redis_cmd('HSET', $old->key($k), $x, $id);
        }
        next;
    }
    my $d = $t->redis_cmd('DUMP', $ref->key($k));
    $t->redis_cmd('RESTORE', $old->key($k), 0, $d) if defined $d;
}
is($t->redis_cmd('TYPE', $old->key('User:idx:externalId')), 'hash',
   'layout 1: the externalId index a hash');
for my $type (qw(User Group)) {
    my %docs = @{ $t->redis_cmd('HGETALL', $ref->key("$type:docs")) };
    $t->redis_cmd('SET', $old->key("$type:$_"), $docs{$_}) for keys %docs;
}
for my $e (@{ $t->redis_cmd('ZRANGE', $ref->key('members'), 0, -1) }) {
    my ($g, $m) = split /\0/, $e;
    my $type = $t->redis_cmd('HEXISTS', $ref->key('User:display'), $m)
               ? 'User' : 'Group';
    $t->redis_cmd('SADD', $old->key("Group:$g:members"), $m);
    $t->redis_cmd('SADD', $old->key("$type:$m:groups"), $g);
}
is($t->redis_cmd('SCARD', $old->key('Group:g2:members')), 30,
   'layout 1: a member set of 30');

# another tenant in layout 1 that the glob o[l]d* would match, unescaped
$t->redis_cmd('SET', 'scim:{old}:User:x1', '{"id":"x1"}');
$t->redis_cmd('SADD', 'scim:{old}:Group:y1:members', 'x1');

is($old->run('get', [$old->keys], 'User', 'u1', '0'), undef,
   'layout 1 is not read by this build');

# the raw contents of a key, and the tenant's keys
sub content {
    my ($k) = @_;
    my $type = $t->redis_cmd('TYPE', $k);
    return [$type] if $type eq 'none';
    return [$type, $t->redis_cmd('GET', $k)] if $type eq 'string';
    my $all = $type eq 'hash' ? $t->redis_cmd('HGETALL', $k)
            : $type eq 'zset' ? $t->redis_cmd('ZRANGE', $k, 0, -1,
                                              'WITHSCORES')
            : $t->redis_cmd('SMEMBERS', $k);
    return [$type, sort @$all];
}

sub tenant_keys {
    my ($l) = @_;
    (my $glob = $l->prefix) =~ s/([\\*?\[\]])/\\$1/g;
    return [grep { index($_, $l->prefix) == 0 } $t->redis_keys("$glob*")];
}

sub migrate {
    my @args = @_;
    my $out = `'$tool' -p $port @args 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $out);
my $seen = $t->redis_monitor(sub {
    ($rc, $out) = migrate('-b', 2, '-m', 4, "'$OLD'");
});
is($rc, 0, 'migrate: exit 0') or diag $out;
my @evals = grep { $_->[0] eq 'EVAL' } @$seen;
my @big = grep { $_->[2] > 4 + 2 } @evals;
ok(@evals >= 30 && !@big, 'in batches: ' . scalar(@evals)
   . ' scripts of at most 2 layout-1 keys') or diag scalar @evals;
my @sets = grep { $_->[0] =~ /^S/ && $_->[1] eq $old->key('Group:g2:members') }
           @$seen;
my @srand = grep { $_->[0] eq 'SRANDMEMBER' } @sets;
ok(@srand >= 8 && !grep({ $_->[2] > 4 } @srand),
   'a set of 30 moved at most 4 members a script') or diag explain \@srand;
ok(!grep({ $_->[0] eq 'KEYS' } @$seen), 'no KEYS');
ok(grep({ $_->[0] eq 'SCAN' } @$seen), 'SCAN');
like($out, qr/34 documents and 68 set members moved/,
     '... every document, and every member from both sides') or diag $out;
like($out, qr/ 2 externalId index entries moved/,
     '... and the two externalId index entries') or diag $out;

# raw: every layout-2 key as in the reference, nothing else left
for my $k (map { s/^\Qscim:{ref}:\E//r } $ref->keys) {
    is_deeply(content($old->key($k)), content($ref->key($k)),
              "raw: $k as in the reference");
}
my %fixed = map { $_ => 1 } $old->keys;
is_deeply([grep { !$fixed{$_} } @{ tenant_keys($old) }], [],
          'no layout-1 key left');

is($t->redis_cmd('ZCARD', $old->key('members')), 34,
   'members: 34 pairs (g1: 2, g2: 30, g3: 2)');

# the SCIM view through the scripts
for my $type (qw(User Group)) {
    for my $id ($type eq 'User' ? @users : @groups) {
        is_deeply($old->run('get', [$old->keys], $type, $id, '1'),
                  $ref->run('get', [$ref->keys], $type, $id, '1'),
                  "get $type $id, with its groups or members");
    }
    is_deeply($old->run('page', [$old->keys], 0, 100, $type, '1'),
              $ref->run('page', [$ref->keys], 0, 100, $type, '1'),
              "page of every $type");
}
is_deeply($old->run('related', [$old->keys], 'Group', 'g1'), ['g2', 'g3'],
          "a nested group's parents");
is_deeply($old->run('find', [$old->keys], 'bob', 'User', '1'),
          $ref->run('find', [$ref->keys], 'bob', 'User', '1'),
          'find by name');
is_deeply($old->run('find_email', [$old->keys], 'a@x.org'), ['u1', 'u2'],
          'find_email');

# other tenants untouched
is($t->redis_cmd('GET', 'scim:{old}:User:x1'), '{"id":"x1"}',
   'tenant "old" (which the unescaped glob matches) untouched');
is($t->redis_cmd('SCARD', 'scim:{old}:Group:y1:members'), 1, '... its set too');
is($t->redis_cmd('EXISTS', 'scim:{old}:User:docs'), 0,
   '... nothing of it moved');

# writes work on the migrated tenant
is_deeply($old->run('delete', [$old->keys], 'u1', '1', 'alice', 'e1', 'User',
                    2, 'a@x.org', 'b@x.org'), [1], 'a delete after it');
is_deeply($old->groups_of('u1'), [], '... takes the user out of its groups');

# idempotent: again, nothing to do, nothing changed
my %before = map { $_ => content($_) } $old->keys;
($rc, $out) = migrate("'$OLD'");
is($rc, 0, 'again: exit 0') or diag $out;
like($out, qr/ 0 documents and 0 set members moved/, '... nothing moved');
like($out, qr/ 0 externalId index entries moved/, '... no index entry');
is_deeply({ map { $_ => content($_) } $old->keys }, \%before,
          '... nothing changed');

# a layout-1 document whose id layout 2 already holds is kept, and named
$t->redis_cmd('SET', $old->key('User:u2'), '{"id":"u2","stale":1}');
$t->redis_cmd('SET', $old->key('User:u9'), '{"id":"u9"}');
($rc, $out) = migrate("'$OLD'");
is($rc, 2, 'a conflicting document: exit 2');
like($out, qr/kept .*\Q$OLD\E\}:User:u2\b/, '... names it') or diag $out;
is($t->redis_cmd('GET', $old->key('User:u2')), '{"id":"u2","stale":1}',
   '... leaves it in place');
is($old->stored('User', 'u2'), $ref->stored('User', 'u2'),
   '... and the layout-2 document as it was');
is($old->stored('User', 'u9'), '{"id":"u9"}', 'the other one is moved');

# usage errors
($rc, $out) = migrate();
is($rc, 1, 'no tenant: exit 1');
like($out, qr/usage/, '... usage');
($rc, $out) = migrate("'a{b'");
is($rc, 1, 'a tenant with a brace: exit 1');
($rc, $out) = `'$tool' -p 1 t 2>&1`;
is($? >> 8, 1, 'no Redis: exit 1');

$t->finish;
