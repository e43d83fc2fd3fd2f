# delete_id.lua alone against a bare redis-server: a delete in one call
# that takes the index values from the stored document.  Its effects are
# those of delete.lua given the values the C side folds (the same data,
# deleted both ways in two tenants, compared key by key, events too);
# a name or an e-mail that is not ASCII, or a document it cannot decode,
# writes nothing and returns the document; versions; not found.

use strict;
use warnings;
use utf8;

use lib 't/lib';
use Test::More;
use ScimTest;
use ScimLua;
use Encode qw(encode_utf8);

my $t = ScimTest->new(module => 0);
my $ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
my $NOW = '2026-04-04T04:04:04.000Z';
my @EV = ('1000', 'delete', '2026-05-05T05:05:05.000Z', '', '');

# a document as this module stores it: "meta" last, "version" last; the
# attributes as JSON text
sub head {
    my ($id, $type, $attrs) = @_;
    return qq({"schemas":["u"],"id":"$id"$attrs,"meta":{"resourceType":)
         . qq("$type","created":"c","lastModified":)
         . q("2026-01-01T00:00:00.000Z","version":");
}

# create.lua of a user or group: attributes (JSON text), the values the
# C side gives (folded name, externalId, e-mails), manager, members
sub mk {
    my ($l, $type, $id, $attrs, %o) = @_;
    my @add = @{ $o{members} // [] };
    my @em = @{ $o{emails} // [] };
    my $r = $l->run('create', [$l->keys], $id, head($id, $type, $attrs),
                    $o{name}, $o{ext} // '', $o{name}, $type,
                    $o{manager} // '', scalar(@add), @add, scalar(@em), @em,
                    '0');
    die "create $id: @{[ explain $r ]}" unless ref $r && $r->[0] == 1;
}

# the same data in a tenant: users (one a manager with reports, one with
# e-mails of mixed case and an externalId), groups nested
sub fill {
    my ($l) = @_;
    mk($l, 'User', 'm1', q(,"userName":"Boss"), name => 'boss');
    mk($l, 'User', 'u1', qq(,"userName":"Al.Ice\@X.org","externalId":)
       . q("Ext-1","emails":[{"value":"Al@X.ORG","type":"work"},)
       . q({"value":"","type":"home"},{"type":"other"},)
       . qq({"value":"second\@x.org"}],"$ENT":{"manager":{"value":"m1"}}),
       name => 'al.ice@x.org', ext => 'Ext-1',
       emails => ['al@x.org', 'second@x.org'], manager => 'm1');
    mk($l, 'User', 'r1', qq(,"userName":"r1","$ENT":{"department":"D",)
       . q("manager":{"value":"u1"}}), name => 'r1', manager => 'u1');
    mk($l, 'Group', 'g1', q(,"displayName":"Inner G","externalId":"ge"),
       name => 'inner g', ext => 'ge', members => ['u1', 'r1']);
    mk($l, 'Group', 'g2', q(,"displayName":"Outer"), name => 'outer',
       members => ['g1', 'u1']);
}

# a tenant's keys and stream, its prefix taken out (XRANGE ids and times
# left out)
sub state {
    my ($l) = @_;
    my $p = $l->prefix;
    my $d = $t->redis_dump("$p*");
    my %s = map { substr($_, length $p) => $d->{$_} } keys %$d;
    delete $s{events};
    my $ev = $l->cmd('XRANGE', $l->key('events'), '-', '+') // [];
    $s{'events (fields)'} = [map { join ' ', @{ $_->[1] } } @$ev];
    return \%s;
}

sub del_old {
    my ($l, $type, $id, $v, $name, $ext, @em) = @_;
    return $l->run('delete', [$l->keys], $id, $v, $name, $ext, $type,
                   scalar(@em), @em, $NOW, @EV);
}

sub del_id {
    my ($l, $type, $id, $v) = @_;
    return $l->run('delete_id', [$l->keys], $id, $type, $v, $NOW, @EV);
}

my $a = ScimLua->new($t, 'ta');
my $b = ScimLua->new($t, 'tb');
fill($a);
fill($b);
is_deeply(state($a), state($b), 'two tenants with the same data');

is_deeply(del_id($b, 'User', 'nope', ''), [0], 'no document: {0}');
is_deeply(del_id($b, 'Group', 'u1', ''), [0], '... not of that type: {0}');
is_deeply(del_id($b, 'User', 'u1', '9'), [-1, '2'],
          'another version expected: {-1, current}');
is_deeply(state($a), state($b), '... nothing written');

# a user with e-mails, externalId, groups, a manager and a report
is_deeply(del_old($a, 'User', 'u1', '2', 'al.ice@x.org', 'Ext-1',
                  'al@x.org', 'second@x.org'), [1], 'delete.lua: {1}');
is_deeply(del_id($b, 'User', 'u1', '2'), [1],
          'delete_id.lua, the version expected: {1}');
is($b->stored('User', 'u1'), undef, '... the document gone');
is_deeply(state($a), state($b),
          '... every key as delete.lua leaves it, events the same');
is($b->cmd('ZCARD', $b->key('User:idx:email')), 0, '... its e-mails out');
is($b->cmd('ZCARD', $b->key('User:idx:externalId')), 0,
   '... its externalId out');
is($b->cmd('HGET', $b->key('User:idx:userName'), 'al.ice@x.org'), undef,
   '... its folded userName out');
is_deeply($b->members_of('g1'), ['r1'], "... out of its groups' members");
like($b->stored('User', 'r1'), qr/"$ENT":\{"department":"D"\}/,
     '... its report lost it as manager');

# a group, any version
is_deeply(del_old($a, 'Group', 'g1', '4', 'inner g', 'ge'), [1],
          'delete.lua of a group');
is_deeply(del_id($b, 'Group', 'g1', ''), [1],
          'delete_id.lua of a group, any version');
is_deeply(state($a), state($b), '... the same effects');
is($b->cmd('HLEN', $b->key('Group:idx:displayName')), 1,
   '... its folded displayName out');

is_deeply(del_old($a, 'User', 'm1', '1', 'boss', ''), [1],
          'delete.lua of a manager');
is_deeply(del_id($b, 'User', 'm1', ''), [1], 'delete_id.lua of a manager');
is_deeply(state($a), state($b), '... the same effects');

# not ASCII: nothing written, the document returned
my $c = ScimLua->new($t, 'tc');
my %na = (
    'a userName not ASCII' => [q(,"userName":"ÅSA@x"), 'åsa@x'],
    'the Kelvin sign (folds to ASCII "k")' =>
        [qq(,"userName":"\x{212A}elvin"), 'kelvin'],
    'an e-mail not ASCII' =>
        [q(,"userName":"plain","emails":[{"value":"a@x"},)
         . q({"value":"Ö@x"}]), 'plain', emails => ['a@x', 'ö@x']],
    'an escaped one (\u00c5)' =>
        [q(,"userName":"\u00c5sa2"), 'åsa2'],
);
my ($n, $emid) = (0);
for my $what (sort keys %na) {
    my ($attrs, $name, %o) = @{ $na{$what} };
    my $id = 'n' . ++$n;
    $emid = $id if $o{emails};
    mk($c, 'User', $id, encode_utf8($attrs), name => encode_utf8($name),
       map { $_ => [map { encode_utf8($_) } @{ $o{$_} }] } keys %o);
    my $before = state($c);
    my $doc = $c->stored('User', $id);
    is_deeply(del_id($c, 'User', $id, ''), [-5, $doc],
              "$what: {-5, the stored document}");
    is_deeply(state($c), $before, '... nothing written');
}
mk($c, 'Group', 'gn', encode_utf8(q(,"displayName":"Grüne")),
   name => encode_utf8('grüne'));
my $before = state($c);
is_deeply(del_id($c, 'Group', 'gn', ''), [-5, $c->stored('Group', 'gn')],
          "a group's displayName not ASCII: {-5, doc}");
is_deeply(state($c), $before, '... nothing written');
is_deeply(del_id($c, 'Group', 'gn', '77'), [-1, '5'],
          '... a version mismatch comes first: {-1, current}');

# a document it cannot decode, or without a version
$c->cmd('HSET', $c->key('User:docs'), 'bad', '{"userName":"x",'
        . '"meta":{"version":"W/\"9\""}} trailing');
is_deeply(del_id($c, 'User', 'bad', ''), [-5, $c->stored('User', 'bad')],
          'a document that is not JSON: {-5, doc}');
$c->cmd('HSET', $c->key('User:docs'), 'nov', '{"userName":"x"}');
is_deeply(del_id($c, 'User', 'nov', ''), [-5, '{"userName":"x"}'],
          'a document without a version: {-5, doc}');
ok(defined $c->stored('User', 'bad') && defined $c->stored('User', 'nov'),
   '... both kept');

# an ASCII name in odd case, and shapes of "emails" jansson's reading
# ignores
mk($c, 'User', 'o1', q(,"userName":"MiXeD","emails":{"value":"o@x"}),
   name => 'mixed');
mk($c, 'User', 'o2', q(,"userName":7,"emails":[null,"s",[1],)
   . q({"value":3},{"value":"E@X"}]), name => '', emails => ['e@x']);
is_deeply(del_id($c, 'User', 'o1', ''), [1], 'emails an object: deleted');
is_deeply(del_id($c, 'User', 'o2', ''), [1],
          'a userName not a string, e-mails of odd shapes: deleted');
is($c->cmd('HGET', $c->key('User:idx:userName'), 'mixed'), undef,
   '... the folded name out');
is_deeply($c->cmd('ZRANGE', $c->key('User:idx:email'), 0, -1),
          [map { encode_utf8($_) . "\0$emid" } 'a@x', 'ö@x'],
          '... the e-mail index holds only the undeleted user\'s');

$t->finish;
