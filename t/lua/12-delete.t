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
        scalar(@em), @em, $o{now} // '2026-03-03T03:03:03.000Z');
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
is($l->cmd('HGET', $l->key('User:manager'), 'u2'), undef,
   "a report's manager link goes");
is($l->cmd('ZCARD', $l->key('User:reports')), 0, '... and its reverse entry');
is($l->stored('User', 'u2'), $l->doc('u2', 'Bob', 2),
   '... its document, of no shape this module writes, is kept as it was');

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

# a manager's reports lose it, in their documents too, each at a new
# version and lastModified; the manager's own manager link goes as well
{
    my $x = ScimLua->new($t, 'tx');
    my $ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    my %body = (
        r1 => qq(,"$ENT":{"department":"Ops","manager":{"value":"m1"}}),
        r2 => qq(,"$ENT":{"manager":{"value":"m1"}},"urn:x:ext:2.0:User":)
              . q({"manager":{"value":"m1"}}),
        r3 => qq(,"$ENT":{"manager":{"value":"m2"}}),
        r4 => qq(,"x":"\\"manager\\":{\\"value\\":\\"m1\\"}}",)
              . qq("$ENT":{"costCenter":"1","manager":{"value":"m1"}}),
    );
    # documents as this module stores them: "meta" last, "version" last
    my $head = sub {
        my ($id, $extra) = @_;
        return qq({"schemas":["u"],"id":"$id","userName":"$id"$extra,)
             . q("meta":{"resourceType":"User","created":"c",)
             . q("lastModified":"2026-01-01T00:00:00.000Z","version":");
    };
    my %want = (
        r1 => qq(,"$ENT":{"department":"Ops"}),
        r2 => q(,"urn:x:ext:2.0:User":{"manager":{"value":"m1"}}),
        r3 => $body{r3},
        r4 => qq(,"x":"\\"manager\\":{\\"value\\":\\"m1\\"}}",)
              . qq("$ENT":{"costCenter":"1"}),
    );
    my $mk = sub {
        my ($id, $m, $extra) = @_;
        return $x->run('create', [$x->keys], $id, $head->($id, $extra),
                       $id, '', $id, 'User', $m, 0, 0, '0');
    };
    is_deeply($mk->('m2', '', ''), [1, 1, undef], 'a manager m2');
    is_deeply($mk->('m1', 'm2', qq(,"$ENT":{"manager":{"value":"m2"}})),
              [1, 2, 'm2'], 'm1, managed by m2');
    my $n = 2;
    for my $r (qw(r1 r2 r3 r4)) {
        my $m = $r eq 'r3' ? 'm2' : 'm1';
        is_deeply($mk->($r, $m, $body{$r}), [1, ++$n, $m], "report $r of $m");
    }
    is_deeply([sort @{ $x->cmd('ZRANGE', $x->key('User:reports'), 0, -1) }],
              ["m1\0r1", "m1\0r2", "m1\0r4", "m2\0m1", "m2\0r3"],
              'User:reports: "<manager>\\0<user>"');
    is_deeply(scalar $x->run('delete', [$x->keys], 'm1', '2', 'm1', '', 'User',
                             0, '2026-04-04T04:04:04.000Z'),
              [1], 'delete m1');
    my $v = 6;
    for my $r (qw(r1 r2 r4)) {
        $v++;
        is($x->stored('User', $r), $head->($r, $want{$r})
           =~ s/2026-01-01T00:00:00.000Z/2026-04-04T04:04:04.000Z/r
           . qq(W/\\"$v\\""}}),
           "$r: its enterprise manager gone, lastModified now, version $v");
        is($x->cmd('HGET', $x->key('User:manager'), $r), undef,
           "$r: no User:manager entry");
    }
    is($x->stored('User', 'r3'), $head->('r3', $body{r3}) . q(W/\"5\""}}),
       "m2's report r3 untouched");
    is_deeply([sort @{ $x->cmd('ZRANGE', $x->key('User:reports'), 0, -1) }],
              ["m2\0r3"], "User:reports: m1's reports and m1 itself out");
    is($x->cmd('GET', $x->key('seq')), 9, 'a version drawn for each report');
}

$t->finish;
