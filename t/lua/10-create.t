# create.lua alone against a bare redis-server: replies and effects.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use ScimTest;
use ScimLua;

my $t = ScimTest->new(module => 0);
my $l = ScimLua->new($t, 't1');

# a user
my $r = $l->user('u1', 'Alice', ext => 'e1', display => 'Alice A',
                 emails => ['a@x.org', 'b@x.org']);
is_deeply($r, [1, 1, undef], 'create user: {1, seq, no manager}');
is($l->stored('User', 'u1'), $l->doc('u1', 'Alice', 1),
   'the document ends with the version drawn from seq');
is($l->cmd('GET', $l->key('seq')), 1, 'seq incremented');
is($l->cmd('ZSCORE', $l->key('User:ids'), 'u1'), 1, 'ids: scored by seq');
is($l->cmd('HGET', $l->key('User:idx:userName'), 'alice'), 'u1',
   'name index (folded name)');
is_deeply($l->cmd('ZRANGE', $l->key('User:idx:externalId'), 0, -1,
                  'WITHSCORES'), ["e1\0u1", 0],
          'externalId index: "<externalId>\\0<id>", score 0');
is($l->cmd('HGET', $l->key('User:display'), 'u1'), 'Alice A', 'display');
is_deeply($l->cmd('ZRANGE', $l->key('User:idx:email'), 0, -1),
          ["a\@x.org\0u1", "b\@x.org\0u1"], 'e-mail index');
is($l->cmd('HGET', $l->key('User:manager'), 'u1'), undef, 'no manager');

# a user with a manager: the manager's display comes back
$r = $l->user('u2', 'Bob', manager => 'u1');
is_deeply($r, [1, 2, 'Alice A'], 'create with manager: its display');
is($l->cmd('HGET', $l->key('User:manager'), 'u2'), 'u1', 'manager hash');

is_deeply([$l->cmd('ZRANGE', $l->key('User:reports'), 0, -1, 'WITHSCORES')],
          [["u1\0u2", 0]], 'User:reports: "<manager>\\0<user>", score 0');

# a manager must be a user of the tenant
is_deeply($l->user('u9', 'Ivy', manager => 'ghost'), [-4, 'ghost', 'manager'],
          'a manager that is no user: {-4, id, "manager"}');
is_deeply($l->user('u9', 'Ivy', manager => 'u9'), [-4, 'u9', 'manager'],
          'the user itself as its manager: refused');
is($l->stored('User', 'u9'), undef, '... nothing written');

# conflicts, and nothing written for them
is_deeply($l->user('u1', 'Other'), [-3], 'id taken: {-3}');
is_deeply($l->user('u3', 'ALICE'), [-2, 1], 'name taken: {-2, 1}');
is_deeply($l->user('u3', 'Carol', ext => 'e1', unique => 1), [-2, 2],
          'unique: externalId taken: {-2, 2}');
is($l->cmd('GET', $l->key('seq')), 2, 'conflicts draw no seq');
is($l->stored('User', 'u3'), undef, 'and write no document');
is($l->cmd('HGET', $l->key('User:idx:userName'), 'carol'), undef,
   'nor an index entry');

# tenant tx: not unique (the default): another user with e1, one with a
# longer value that starts with "e1\0"
{
    my $x = ScimLua->new($t, 'tx');
    $x->user('u1', 'Alice', ext => 'e1');
    is_deeply($x->user('u4', 'Dave', ext => 'e1'), [1, 2, undef],
              'externalId not unique: a second user with e1');
    is_deeply($x->user('u5', 'Eve', ext => "e1\0u9"), [1, 3, undef],
              'an externalId holding NUL, e1 and more');
    is_deeply($x->ext_index('User'),
              { e1 => ['u1', 'u4'], "e1\0u9" => ['u5'] },
              'the index holds both ids of e1, the longer value apart');
    my $e1 = $x->run('find_ext', [$x->keys], 'e1', 'User', '0');
    is_deeply([$e1->[0], sort @$e1[1 .. $#$e1]], [-7, 'u1', 'u4'],
              'find_ext e1: -7 and both ids, not the longer value');
    my $one = $x->run('find_ext', [$x->keys], "e1\0u9", 'User', '0');
    like($one->[0] // '', qr/"id":"u5"/,
         'find_ext of the value holding NUL: exactly its user, read');
    is($x->run('find_ext', [$x->keys], "e1\0", 'User', '0'), undef,
       'find_ext "e1\\0": none');
    is($x->run('find_ext', [$x->keys], 'e1', 'Group', '0'), undef,
       'find_ext of groups: none');
    is_deeply($x->user('u6', 'Fay', ext => "e1\0", unique => 1),
              [1, 4, undef], 'unique: "e1\\0" is not taken by "e1\\0u9"');
    is_deeply($x->user('u7', 'Gus', ext => "e1\0", unique => 1), [-2, 2],
              '... but by u6 now');
    is_deeply($x->user('u7', 'Gus', ext => 'e1', unique => 1), [-2, 2],
              'unique: e1 taken (twice already)');
}

# a group with a user and a group as members
is_deeply($l->group('g1', 'Staff'), [1, 3, undef], 'create group');
is($l->cmd('HGET', $l->key('Group:display'), 'g1'), 'Staff',
   'group display');
is($l->cmd('HGET', $l->key('Group:idx:displayName'), 'staff'), 'g1',
   'group name index');
$r = $l->group('g2', 'All', members => ['u1', 'g1']);
is_deeply($r, [1, 4, undef], 'create group with members');
is_deeply($l->members_of('g2'), ['g1', 'u1'], 'members');
is_deeply($l->groups_of('u1'), ['g2'], "a user member's reverse entry");
is_deeply($l->groups_of('g1'), ['g2'], "a group member's reverse entry");
is_deeply($l->cmd('ZRANGE', $l->key('members'), 0, -1, 'WITHSCORES'),
          ["g2\0g1", 0, "g2\0u1", 0], 'members: "<group>\\0<member>", 0');
is_deeply($l->cmd('ZRANGE', $l->key('memberof'), 0, -1),
          ["g1\0g2", "u1\0g2"], 'memberof: "<member>\\0<group>"');
is($l->cmd('ZCARD', $l->key('User:idx:email')), 2,
   'a group adds no e-mails');

# bad members: unknown, or the group itself
is_deeply($l->group('g3', 'Bad', members => ['u1', 'nope']), [-4, 'nope'],
          'unknown member: {-4, id}');
is_deeply($l->group('g3', 'Bad', members => ['g3']), [-4, 'g3'],
          'the group itself: {-4, id}');
is($l->stored('Group', 'g3'), undef, 'no group written');
is_deeply($l->members_of('g3'), [], 'no members');
is($l->cmd('ZCARD', $l->key('members')), 2, 'members: as before');
is($l->cmd('GET', $l->key('seq')), 4, 'no seq drawn');

# a create refused after its name was checked leaves no index entry of
# the name (create.lua writes it with the check, and takes it back)
for my $bad (['a manager that is no user', 'User', manager => 'ghost'],
             ['unique externalId taken', 'User', ext => 'e1', unique => 1],
             ['an unknown member', 'Group', members => ['nope']]) {
    my ($what, $type, @o) = @$bad;
    my $r = $l->create($type, 'z1', 'Zed', @o);
    is($r->[0], $type eq 'User' && $what =~ /unique/ ? -2 : -4,
       "$what: refused");
    is($l->cmd('HGET', $l->key("$type:idx:"
                               . ($type eq 'User' ? 'userName'
                                                  : 'displayName')), 'zed'),
       undef, '... and its name is not in the index');
}
is_deeply($l->user('z1', 'Zed'), [1, 5, undef], 'the name is free');
is_deeply($l->user('z2', 'Zed'), [-2, 1], '... and then taken');
is($l->cmd('HGET', $l->key('User:idx:userName'), 'zed'), 'z1',
   '... by the first');

# tenants do not meet
my $o = ScimLua->new($t, 't2');
is_deeply($o->user('u1', 'Alice'), [1, 1, undef],
          'the same id and name in another tenant');
is($l->cmd('GET', $l->key('seq')), 5, "the first tenant's seq unchanged");

$t->finish;
