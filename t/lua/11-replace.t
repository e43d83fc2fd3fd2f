# replace.lua alone against a bare redis-server: replies and effects.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use ScimTest;
use ScimLua;

my $t = ScimTest->new(module => 0);
my $l = ScimLua->new($t, 't1');

# replace(type, id, expected, head, old name, new name, old ext, new ext,
#         display, now, manager, clear, [rem], [add], [old em], [new em],
#         unique)
sub replace {
    my (%o) = @_;
    my $type = $o{type} // 'User';
    my $id = $o{id};
    my @rem = @{ $o{rem} // [] };
    my @add = @{ $o{add} // [] };
    my @oe = @{ $o{old_em} // [] };
    my @ne = @{ $o{new_em} // [] };
    return $l->run_err('replace', [$l->keys],
        $id, $o{expect} // '', $o{head} // '', $o{old_name} // '',
        $o{new_name} // '', $o{old_ext} // '', $o{new_ext} // '',
        $o{display} // '', $o{now} // '', $type,
        $o{manager} // '', $o{clear} ? '1' : '0',
        scalar(@rem), @rem, scalar(@add), @add, scalar(@oe), @oe,
        scalar(@ne), @ne, $o{unique} ? '1' : '0');
}

$l->user('u1', 'Alice', ext => 'e1', emails => ['a@x.org']);     # seq 1
$l->user('u2', 'Bob', ext => 'e2');                              # 2
$l->user('u3', 'Carol');                                         # 3

# a missing document, a stale version
is_deeply(scalar replace(id => 'nope', expect => '1'), [0],
          'no document: {0}');
is_deeply(scalar replace(id => 'u1', expect => '7',
                         head => $l->head('u1', 'X')), [-1, '1'],
          'stale version: {-1, current}');
is($l->stored('User', 'u1'), $l->doc('u1', 'Alice', 1),
   'a stale write changes nothing');

# conflicts with another resource's name or externalId
is_deeply(scalar replace(id => 'u1', expect => '1',
                         head => $l->head('u1', 'Bob'),
                         old_name => 'alice', new_name => 'bob',
                         old_ext => 'e1', new_ext => 'e1'), [-2, 1],
          'name taken: {-2, 1}');
is_deeply(scalar replace(id => 'u1', expect => '1',
                         head => $l->head('u1', 'Alice'),
                         old_name => 'alice', new_name => 'alice',
                         old_ext => 'e1', new_ext => 'e2', unique => 1),
          [-2, 2], 'unique: externalId taken: {-2, 2}');
is($l->cmd('GET', $l->key('seq')), 3, 'conflicts draw no seq');

# a successful replace: indexes move, e-mails, manager, display
is_deeply(scalar replace(id => 'u1', expect => '1',
                         head => $l->head('u1', 'Alicia'),
                         old_name => 'alice', new_name => 'alicia',
                         old_ext => 'e1', new_ext => '',
                         display => 'Alicia', manager => 'u2',
                         old_em => ['a@x.org'], new_em => ['c@x.org']),
          [1, 4, 'Bob'], 'replace: {1, seq, manager display}');
is($l->stored('User', 'u1'), $l->doc('u1', 'Alicia', 4),
   'the new document, at the new version');
is($l->cmd('HGET', $l->key('User:idx:userName'), 'alice'), undef,
   'old name out of the index');
is($l->cmd('HGET', $l->key('User:idx:userName'), 'alicia'), 'u1',
   'new name in');
is_deeply($l->ext_index('User'), { e2 => ['u2'] }, 'externalId removed');
is($l->cmd('HGET', $l->key('User:display'), 'u1'), 'Alicia',
   'display updated');
is($l->cmd('HGET', $l->key('User:manager'), 'u1'), 'u2', 'manager set');
is_deeply($l->cmd('ZRANGE', $l->key('User:idx:email'), 0, -1),
          ["c\@x.org\0u1"], 'e-mail index: old out, new in');

# any version ('') and a manager removed
is_deeply(scalar replace(id => 'u1', expect => '',
                         head => $l->head('u1', 'Alicia'),
                         old_name => 'alicia', new_name => 'alicia'),
          [1, 5, undef], 'expected version "" = any');
is($l->cmd('HGET', $l->key('User:manager'), 'u1'), undef,
   'manager removed');
is($l->cmd('HGET', $l->key('User:display'), 'u1'), 'Alicia',
   'display "" keeps it');

# not unique: u3 takes e2 too, then u1 (a PATCH setting it), then u3
# moves to e3; unique: u3 keeps its own value (no conflict with itself)
is_deeply(scalar replace(id => 'u3', expect => '3',
                         head => $l->head('u3', 'Carol'),
                         old_name => 'carol', new_name => 'carol',
                         new_ext => 'e2'),
          [1, 6, undef], 'not unique: u3 takes e2, which u2 has');
is_deeply(scalar replace(id => 'u1', expect => '5',
                         head => $l->head('u1', 'Alicia'),
                         old_name => 'alicia', new_name => 'alicia',
                         new_ext => 'e2'),
          [1, 7, undef], '... and u1');
is_deeply($l->ext_index('User'), { e2 => ['u1', 'u2', 'u3'] },
          'the index: e2 for all three');
is_deeply(scalar replace(id => 'u3', expect => '6',
                         head => $l->head('u3', 'Carol'),
                         old_name => 'carol', new_name => 'carol',
                         old_ext => 'e2', new_ext => 'e3', unique => 1),
          [1, 8, undef], 'unique: u3 moves to a free e3');
is_deeply(scalar replace(id => 'u3', expect => '8',
                         head => $l->head('u3', 'Carol'),
                         old_name => 'carol', new_name => 'carol',
                         old_ext => 'e3', new_ext => 'e3', unique => 1),
          [1, 9, undef], 'unique: its own value is no conflict');
is_deeply(scalar replace(id => 'u1', expect => '7',
                         head => $l->head('u1', 'Alicia'),
                         old_name => 'alicia', new_name => 'alicia',
                         old_ext => 'e2', new_ext => 'e3', unique => 1),
          [-2, 2], 'unique: e3 taken by u3');
is_deeply(scalar replace(id => 'u1', expect => '7',
                         head => $l->head('u1', 'Alicia'),
                         old_name => 'alicia', new_name => 'alicia',
                         old_ext => 'e2', new_ext => ''),
          [1, 10, undef], 'u1 drops its externalId');
is_deeply($l->ext_index('User'), { e2 => ['u2'], e3 => ['u3'] },
          'the index: exact after each change');

# a group: member changes, with and without the document
$l->group('g1', 'Staff', members => ['u1']);                     # 11
is_deeply(scalar replace(type => 'Group', id => 'g1', expect => '11',
                         head => $l->head('g1', 'Staff'),
                         old_name => 'staff', new_name => 'staff',
                         rem => ['u1'], add => ['u2', 'u3']),
          [1, 12, undef], 'group replace with member changes');
is_deeply($l->members_of('g1'), ['u2', 'u3'], 'members');
is_deeply($l->groups_of('u1'), [], "a removed member's reverse entry");
is_deeply($l->groups_of('u2'), ['g1'], "an added member's reverse entry");

is_deeply(scalar replace(type => 'Group', id => 'g1', add => ['nope']),
          [-4, 'nope'], 'unknown member: {-4, id}');

# member-only (no head): only lastModified and the version change
my $now = '2026-02-02T02:02:02.000Z';
is_deeply(scalar replace(type => 'Group', id => 'g1', expect => '12',
                         now => $now, clear => 1, add => ['u1']),
          [1, 13, undef], 'member-only change');
is($l->stored('Group', 'g1'), $l->doc('g1', 'Staff', 13, $now),
   'the kept document: new lastModified and version');
is_deeply($l->members_of('g1'), ['u1'], 'clear, then add');
is_deeply($l->groups_of('u2'), [], "a cleared member's reverse entry");
is_deeply($l->groups_of('u1'), ['g1'], "a re-added member's reverse entry");
is($l->cmd('ZCARD', $l->key('members')), 1, 'members holds only that');
is($l->cmd('ZCARD', $l->key('memberof')), 1, '... and memberof');

# a stored document without the expected tail
$l->cmd('HSET', $l->key('Group:docs'), 'g9', '{"broken":1}');
my ($r, $e) = replace(type => 'Group', id => 'g9', now => $now);
ok(!defined $r && $e =~ /bad stored document/,
   'member-only change of a document without its tail: an error')
    or diag explain [$r, $e];

$t->finish;
