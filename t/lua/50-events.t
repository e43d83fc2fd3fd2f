# The change events of the write scripts (lib.lua event(), issue 11)
# against a bare redis-server: one XADD on scim:{T}:events (the 17th key)
# per write, with its fields; a group's members that went in and out (the
# first 100 of each, and their counts); a delete's reports, one patch
# event each; MAXLEN ~ trims; no event arguments (events off): no XADD
# and no stream; a refused write (a conflict, a stale version) none.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use ScimTest;
use ScimLua;

my $t = ScimTest->new(module => 0);
my $l = ScimLua->new($t, 't1');
my $S = $l->key('events');
my $NOW = '2026-05-05T05:05:05.000Z';

# the event arguments: maxlen, type, time, active, paths
sub ev { my ($type, %o) = @_;
         return ($o{max} // '1000', $type, $NOW, $o{active} // '',
                 $o{paths} // '') }

# the stream's entries as [{field => value}], oldest first
sub events {
    my $r = $l->cmd('XRANGE', $S, '-', '+') // [];
    return [map { +{ @{ $_->[1] } } } @$r];
}

sub create {
    my ($type, $id, $name, $ev, %o) = @_;
    my @add = @{ $o{members} // [] };
    return $l->run('create', [$l->keys], $id, $l->head($id, $name), lc $name,
                   '', $name, $type, $o{manager} // '', scalar(@add), @add,
                   0, '0', @$ev);
}

sub replace {
    my ($type, $id, $ev, %o) = @_;
    my @rem = @{ $o{rem} // [] };
    my @add = @{ $o{add} // [] };
    my $text = $o{text} // '';
    return $l->run('replace', [$l->keys], $id, $o{expect} // '', $text,
                   $o{old} // '', $o{new} // '', '', '', '', $NOW, $type,
                   $o{manager} // '', $o{clear} ? '1' : '0', scalar(@rem),
                   @rem, scalar(@add), @add, 0, 0, '0', '', @$ev);
}

# events off: no XADD, no key
is_deeply(create('User', 'u0', 'Off', []), [1, 1, undef],
          'a create without event arguments');
is($l->cmd('EXISTS', $S), 0, 'events off: no stream');
my @cmds = map { $_->[0] } @{ $t->redis_monitor(sub {
    create('User', 'u00', 'Off2', [], manager => 'u0');
}) };
ok(@cmds && !grep({ /^xadd$/i } @cmds), 'events off: no XADD at all');

is_deeply(create('User', 'u1', 'Ann', [ev('create')]), [1, 3, undef],
          'a create with an event');
is_deeply(events(), [{ type => 'create', resourceType => 'User', id => 'u1',
                       version => '3', time => $NOW }],
          '... its event: type, resourceType, id, version, time');

# a refused write appends nothing
is_deeply(create('User', 'u2', 'Ann', [ev('create')]), [-2, 1],
          'a create of a taken userName: refused');
is_deeply(replace('User', 'u1', [ev('replace')], expect => '9'), [-1, '3'],
          'a replace at a stale version: refused');
is(scalar @{ events() }, 1, '... neither appended an event');

# a replace changing active, a patch with paths
is_deeply(replace('User', 'u1', [ev('replace', active => 'false')],
                  text => $l->head('u1', 'Ann'), old => 'ann', new => 'ann'),
          [1, 4, undef], 'a replace that deactivates');
is_deeply(events()->[-1], { type => 'replace', resourceType => 'User',
                            id => 'u1', version => '4', time => $NOW,
                            active => 'false' },
          '... active flagged');
is_deeply(replace('User', 'u1',
                  [ev('patch', paths => '["name.givenName","active"]',
                      active => 'true')],
                  text => $l->head('u1', 'Ann'), old => 'ann', new => 'ann'),
          [1, 5, undef], 'a patch');
is_deeply(events()->[-1], { type => 'patch', resourceType => 'User',
                            id => 'u1', version => '5', time => $NOW,
                            active => 'true',
                            paths => '["name.givenName","active"]' },
          '... its paths and active');

# groups: the members that went in and out
create('User', "m$_", "M$_", []) for 1 .. 150;
is_deeply(create('Group', 'g1', 'G', [ev('create')],
                 members => [map { "m$_" } 1 .. 3]), [1, 156, undef],
          'a group with 3 members');
my $e = events()->[-1];
is_deeply([$e->{type}, $e->{added}, $e->{addedCount}, $e->{removed}],
          ['create', '["m1","m2","m3"]', '3', undef],
          '... added: its members, and their count');

is_deeply(replace('Group', 'g1', [ev('members')], rem => ['m1', 'm9'],
                  add => ['m4', 'm2']), [1, 157, undef],
          'a member change: m1 and m9 (no member) out, m4 and m2 (one) in');
$e = events()->[-1];
is_deeply([@$e{qw(type id version added addedCount removed removedCount)}],
          ['members', 'g1', '157', '["m4"]', '1', '["m1"]', '1'],
          '... only what changed');

is_deeply(replace('Group', 'g1', [ev('replace')], clear => 1,
                  text => $l->head('g1', 'G'), old => 'g', new => 'g',
                  add => [map { "m$_" } 3 .. 150]), [1, 158, undef],
          'a replace of the members (clear, then 148 in)');
$e = events()->[-1];
is($e->{addedCount}, '146', '... 146 went in (m3 and m4 were there)');
is_deeply(ScimTest::json_decode($e->{added}), [map { "m$_" } 5 .. 104],
          '... the first 100 of them listed');
is_deeply([$e->{removed}, $e->{removedCount}], ['["m2"]', '1'],
          '... m2 went out');

is_deeply(replace('Group', 'g1', [ev('patch', paths => '["displayName"]')],
                  text => $l->head('g1', 'H'), old => 'g', new => 'h'),
          [1, 159, undef], 'a patch without member changes');
$e = events()->[-1];
ok(!exists $e->{added} && !exists $e->{removed},
   '... no added or removed fields');

# a delete; a deleted manager's reports: a patch event each
create('User', 'boss', 'Boss', []);
create('User', 'r1', 'R1', [], manager => 'boss');
my $n0 = @{ events() };
my $ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
# r1's document of the module's shape, managed by boss
$l->cmd('HSET', $l->key('User:docs'), 'r1',
        qq({"id":"r1","$ENT":{"manager":{"value":"boss"}},"meta":)
        . q({"lastModified":"x","version":"W/\"161\""}}));
is_deeply(scalar $l->run('delete', [$l->keys], 'boss', '160', 'boss', '',
                         'User', 0, $NOW, ev('delete')),
          [1], 'delete a manager');
my @new = @{ events() }[$n0 .. $#{ events() }];
is_deeply(\@new, [
    { type => 'delete', resourceType => 'User', id => 'boss',
      version => '160', time => $NOW },
    { type => 'patch', resourceType => 'User', id => 'r1', version => '162',
      time => $NOW, paths => qq(["$ENT:manager"]) },
], '... its event, and a patch of its report');

# MAXLEN ~: trimmed, approximately, never below the cap
$l->cmd('DEL', $S);
create('User', "t$_", "T$_", [ev('create', max => 10)]) for 1 .. 500;
my $len = $l->cmd('XLEN', $S);
ok($len >= 10 && $len < 500, "MAXLEN ~ 10: the stream trimmed ($len)");
is(events()->[-1]{id}, 't500', '... the newest kept');

$t->finish;
