# delete.lua alone against a bare redis-server: replies and effects.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use ScimTest;
use ScimLua;

my $t = ScimTest->new(module => 0);
my $l = ScimLua->new($t, 't1');

sub delete_ {
    my ($type, $id, $version, $name, %o) = @_;
    my @em = @{ $o{emails} // [] };
    return scalar $l->run('delete', [$l->keys],
        $id, $version, lc $name, $o{ext} // '', $type,
        scalar(@em), @em);
}

$l->user('u1', 'Alice', ext => 'e1', emails => ['a@x.org']);     # 1
$l->user('u2', 'Bob', manager => 'u1');                          # 2
$l->group('g1', 'Inner', members => ['u1']);                     # 3
$l->group('g2', 'Outer', members => ['u1', 'u2', 'g1']);         # 4

is_deeply(delete_('User', 'nope', '1', 'x'), [0], 'no document: {0}');
is_deeply(delete_('User', 'u1', '9', 'alice'), [-1, '1'],
          'stale version: {-1, current}');
ok(defined $l->stored('User', 'u1'), 'a stale delete deletes nothing');

# a user: its memberships go with it
is_deeply(delete_('User', 'u1', '1', 'Alice', ext => 'e1',
                  emails => ['a@x.org']), [1], 'delete user: {1}');
is($l->stored('User', 'u1'), undef, 'document gone');
is($l->cmd('ZSCORE', $l->key('User:ids'), 'u1'), undef, 'out of ids');
is($l->cmd('HGET', $l->key('User:idx:userName'), 'alice'), undef,
   'out of the name index');
is($l->cmd('ZCARD', $l->key('User:idx:externalId')), 0,
   'out of the externalId index');
is($l->cmd('HGET', $l->key('User:display'), 'u1'), undef, 'no display');
is_deeply($l->groups_of('u1'), [], 'reverse entries gone');
is_deeply($l->members_of('g1'), [], "out of the groups' members");
is_deeply($l->members_of('g2'), ['g1', 'u2'], '... of every group');
is($l->cmd('ZCARD', $l->key('User:idx:email')), 0, 'e-mails out');
is($l->cmd('HGET', $l->key('User:manager'), 'u2'), 'u1',
   "another user's manager link stays (shown without display)");

# a group: its members' reverse sets, its own parents
is_deeply(delete_('Group', 'g1', '3', 'Inner'), [1], 'delete group');
is_deeply($l->members_of('g2'), ['u2'], 'out of its parent group');
is_deeply($l->groups_of('g1'), [], 'its reverse entries gone');
is($l->cmd('HGET', $l->key('Group:display'), 'g1'), undef, 'no display');

is_deeply(delete_('Group', 'g2', '4', 'Outer'), [1], 'delete a parent');
is_deeply($l->members_of('g2'), [], 'its members gone');
is_deeply($l->groups_of('u2'), [], "its members' reverse entries");
is($l->cmd('EXISTS', $l->key('members')), 0, 'members: empty, so gone');
is($l->cmd('EXISTS', $l->key('memberof')), 0, '... and memberof');
is($l->cmd('HGET', $l->key('Group:idx:displayName'), 'outer'), undef,
   'out of the name index');

$t->finish;
