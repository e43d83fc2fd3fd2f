# replace.lua alone against a bare redis-server: replies and effects.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use ScimTest;
use ScimLua;
use Digest::SHA ();

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

# managers: a new one must be a user; the current one stays allowed (a
# document stored before the check); reports follow every change
my $w = ScimLua->new($t, 'tw');
$w->user("w$_", "W$_") for 1 .. 3;
is_deeply([ $w->run_err('replace', [$w->keys], 'w1', '', $w->head('w1', 'W1'),
                        'w1', 'w1', '', '', '', '', 'User', 'ghost', '0',
                        0, 0, 0, 0, '0') ],
          [[-4, 'ghost', 'manager'], undef], 'replace: a manager that is no user');
is_deeply([ $w->run_err('replace', [$w->keys], 'w1', '', $w->head('w1', 'W1'),
                        'w1', 'w1', '', '', '', '', 'User', 'w1', '0',
                        0, 0, 0, 0, '0') ],
          [[-4, 'w1', 'manager'], undef], '... or the user itself');
is_deeply(scalar $w->run('replace', [$w->keys], 'w1', '', $w->head('w1', 'W1'),
                         'w1', 'w1', '', '', '', '', 'User', 'w2', '0',
                         0, 0, 0, 0, '0'),
          [1, 4, 'W2'], 'replace: w2 as manager');
$w->cmd('HSET', $w->key('User:manager'), 'w3', 'gone');     # stored before
is_deeply(scalar $w->run('replace', [$w->keys], 'w3', '', $w->head('w3', 'W3'),
                         'w3', 'w3', '', '', 'W3 new', '', 'User', 'gone', '0',
                         0, 0, 0, 0, '0'),
          [1, 5, undef], 'a manager kept as it was is not checked');
is_deeply(scalar $w->run('replace', [$w->keys], 'w1', '', $w->head('w1', 'W1'),
                         'w1', 'w1', '', '', '', '', 'User', 'w3', '0',
                         0, 0, 0, 0, '0'),
          [1, 6, 'W3 new'], 'w1 moves from w2 to w3');
is_deeply([sort @{ $w->cmd('ZRANGE', $w->key('User:reports'), 0, -1) }],
          ["w3\0w1"], 'User:reports: w1 under w3 only (w3\'s own "gone" was '
          . 'written around the script)');
is_deeply(scalar $w->run('replace', [$w->keys], 'w1', '', $w->head('w1', 'W1'),
                         'w1', 'w1', '', '', '', '', 'User', '', '0',
                         0, 0, 0, 0, '0'),
          [1, 7, undef], 'w1 without a manager');
is($w->cmd('ZCARD', $w->key('User:reports')), 0, 'User:reports: empty');

# groups: no cycle of any length (a -> b -> c, then c -> a, b -> a, ...)
my $c = ScimLua->new($t, 'tc');
$c->user('cu', 'CU');
$c->group('ga', 'A');
$c->group('gb', 'B', members => ['ga']);
$c->group('gc', 'C', members => ['gb', 'cu']);
$c->group('gd', 'D');
sub add_to {
    my ($g, @add) = @_;
    return scalar $c->run('replace', [$c->keys], $g, '', '', '', '', '', '', '',
                          '2026-05-05T00:00:00.000Z', 'Group', '', '0',
                          0, scalar(@add), @add, 0, 0, '0');
}
is_deeply(add_to('ga', 'gb'), [-4, 'gb', 'cycle'], 'a cycle of 2 refused');
is_deeply(add_to('ga', 'gc'), [-4, 'gc', 'cycle'], 'a cycle of 3 refused');
is_deeply(add_to('ga', 'cu', 'gd', 'gc'), [-4, 'gc', 'cycle'],
          '... also among other members, nothing added');
is_deeply($c->members_of('ga'), [], '... ga still empty');
is_deeply(add_to('ga', 'ga'), [-4, 'ga'], 'itself: as before');
is_deeply(add_to('gd', 'gc'), [1, 6, undef], 'gd holds gc: no cycle');
is_deeply(add_to('ga', 'gd'), [-4, 'gd', 'cycle'], 'a cycle of 4 refused');
is_deeply(add_to('gb', 'cu'), [1, 7, undef], 'a user member: fine');
is_deeply(add_to('ga', 'cu'), [1, 8, undef], 'a user in two levels: fine');
$c->group('ge', 'E', members => ['ga', 'gd']);
is_deeply(add_to('gc', 'ge'), [-4, 'ge', 'cycle'], 'a diamond above: cycle');

# a write from a cached text (the SHA1 of the text changed, issue 13):
# written only if the stored text is that one; a user's groups come back
my $h = ScimLua->new($t, 'th');
$h->user('h1', 'Hana');                                          # seq 1
$h->user('h2', 'Boss');                                          # 2
$h->group('hg1', 'Team A', members => ['h1']);                   # 3
$h->group('hg2', 'Team B', members => ['h1']);                   # 4
$h->cmd('HSET', $h->key('User:manager'), 'h1', 'h2');
sub hrep {
    my ($id, $type, $sha, $head, @ev) = @_;
    return scalar $h->run('replace', [$h->keys], $id, '', $head,
                          lc $id, lc $id, '', '', '', '2026-06-06T00:00:00.000Z',
                          $type, $type eq 'User' ? 'h2' : '', '0',
                          0, 0, 0, 0, '0', $sha, @ev);
}
my $h1 = $h->stored('User', 'h1');
is_deeply(hrep('h1', 'User', Digest::SHA::sha1_hex($h1), $h->head('h1', 'Hana2')),
          [1, 5, 'Boss', 'hg1', 'Group', 'Team A', 'hg2', 'Group', 'Team B'],
          'the cached text is stored: written, {1, seq, manager display, '
          . 'the groups}');
is($h->stored('User', 'h1'), $h->doc('h1', 'Hana2', 5), '... the new text');

# the same version, another text (a restored backup): nothing written
my $other = $h->doc('h1', 'Restored', 5);
$h->cmd('HSET', $h->key('User:docs'), 'h1', $other);
is_deeply(hrep('h1', 'User', Digest::SHA::sha1_hex($h->doc('h1', 'Hana2', 5)),
               $h->head('h1', 'Lost'), '100', 'patch', 'now', '', ''),
          [-6, [$other, 'Boss', 'hg1', 'Group', 'Team A', 'hg2', 'Group',
                'Team B']],
          'another text of the same version: {-6, what get reads}');
is($h->stored('User', 'h1'), $other, '... nothing written');
is($h->cmd('GET', $h->key('seq')), 5, '... no seq drawn');
is($h->cmd('XLEN', $h->key('events')), 0, '... no event');
is_deeply(hrep('h1', 'User', Digest::SHA::sha1_hex($other),
               $h->head('h1', 'Kept'), '100', 'patch', 'now', '', ''),
          [1, 6, 'Boss', 'hg1', 'Group', 'Team A', 'hg2', 'Group', 'Team B'],
          'from that text: written');
is($h->cmd('XLEN', $h->key('events')), 1, '... its event (after the SHA1)');
is_deeply(hrep('hg1', 'Group', Digest::SHA::sha1_hex('x'), $h->head('hg1', 'T')),
          [-6, [$h->doc('hg1', 'Team A', 3), undef]],
          'a group: {-6, {doc}}, no members');
is_deeply(hrep('hg1', 'Group', Digest::SHA::sha1_hex($h->doc('hg1', 'Team A', 3)),
               $h->head('hg1', 'Team A2')), [1, 7, undef],
          'a group written: {1, seq, nil}');
is_deeply(hrep('nope', 'User', Digest::SHA::sha1_hex('x'), $h->head('nope', 'N')),
          [0], 'no document: {0}');

# a stored document without the expected tail
$l->cmd('HSET', $l->key('Group:docs'), 'g9', '{"broken":1}');
my ($r, $e) = replace(type => 'Group', id => 'g9', now => $now);
ok(!defined $r && $e =~ /bad stored document/,
   'member-only change of a document without its tail: an error')
    or diag explain [$r, $e];

$t->finish;
