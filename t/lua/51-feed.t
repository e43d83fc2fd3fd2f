# feed.lua alone against a bare redis-server (issue 11): an RFC 8936
# poll of the change events as RFC 9967 SET claims.  The first poll makes
# the consumer group; SETs come in the stream's order, at most maxEvents,
# moreAvailable when some are left; one not acknowledged comes again (the
# same jti and claims) before any new one; an acknowledged one never; a
# pending entry that trimming removed is acknowledged and skipped; the
# claims: jti = txn = the entry id, iat its time, iss, aud, sub_id
# {format scim, uri}, the event URIs with attributes and version, and
# activate / deactivate beside the change.

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

sub ev { my ($type, %o) = @_;
         return ('1000', $type, $NOW, $o{active} // '', $o{paths} // '') }

sub create {
    my ($type, $id, $name, %o) = @_;
    my @add = @{ $o{members} // [] };
    return $l->run('create', [$l->keys], $id, $l->head($id, $name), lc $name,
                   '', $name, $type, '', scalar(@add), @add, 0, '0',
                   ev('create', paths => $o{paths} // '["userName"]'));
}

# (max, acks...) -> [more, [[jti, claims], ...]]
sub poll {
    my ($max, @ack) = @_;
    my ($r, $e) = $l->run_err('feed', [$l->keys], 'scim-feed', 'feed', $max,
                              'https://x/scim/v2/Events', 't1',
                              scalar(@ack), @ack);
    die "feed: $e" if defined $e;
    my @r = @$r;
    my $more = shift @r;
    my @sets;
    push @sets, [shift @r, ScimTest::json_decode(shift @r)] while @r;
    return [$more, \@sets];
}

sub jtis { [map { $_->[0] } @{ $_[0][1] }] }

is_deeply(poll(5), ['0', []], 'an empty feed: no SETs, no more');
is($l->cmd('EXISTS', $S), 1, '... the stream made for the group');

create('User', "u$_", "U$_") for 1 .. 3;
my $ids = [map { $_->[0] } @{ $l->cmd('XRANGE', $S, '-', '+') }];

my $p = poll(2);
is_deeply([$p->[0], jtis($p)], ['1', [@$ids[0, 1]]],
          'maxEvents 2: the first two, moreAvailable');
my $c = $p->[1][0][1];
my ($ms) = $ids->[0] =~ /^(\d+)-/;
is_deeply($c, {
    jti => $ids->[0], txn => $ids->[0], iat => int($ms / 1000),
    iss => 'https://x/scim/v2/Events', aud => 't1',
    sub_id => { format => 'scim', uri => '/Users/u1' },
    events => { 'urn:ietf:params:scim:event:prov:create:notice' => {
        attributes => ['userName'], version => 'W/"1"' } },
}, 'the claims of a create (RFC 9967 2.4.1, notice)');

$p = poll(2);
is_deeply(jtis($p), [@$ids[0, 1]],
          'not acknowledged: the same two again, first');
is_deeply($p->[1][0][1], $c, '... with the same claims');

$p = poll(2, $ids->[0], 'not-a-jti', '99999999999999-0');
is_deeply(jtis($p), [@$ids[1, 2]],
          'one acknowledged (and junk ignored): the other pending, then the '
          . 'next new one');
is($p->[0], '0', '... nothing more');

$p = poll(0, @$ids[1, 2]);
is_deeply($p, ['0', []], 'maxEvents 0: only the acknowledgements');
is($l->cmd('XPENDING', $S, 'scim-feed')->[0], 0, '... nothing pending');

# the other event types
$l->run('replace', [$l->keys], 'u1', '', $l->head('u1', 'U1'), 'u1', 'u1',
        '', '', '', $NOW, 'User', '', '0', 0, 0, 0, 0, '0', '',
        ev('patch', active => 'false', paths => '["active"]'));
$l->run('replace', [$l->keys], 'u2', '', $l->head('u2', 'U2'), 'u2', 'u2',
        '', '', '', $NOW, 'User', '', '0', 0, 0, 0, 0, '0', '',
        ev('replace', active => 'true', paths => '["userName","active"]'));
create('Group', 'g1', 'G1', members => ['u3'], paths => '');
$l->run('replace', [$l->keys], 'g1', '', '', '', '', '', '', '', $NOW,
        'Group', '', '0', 1, 'u3', 0, 0, 0, '0', '', ev('members'));
$l->run('delete', [$l->keys], 'u3', '3', 'u3', '', 'User', 0, $NOW,
        ev('delete'));
my $P = 'urn:ietf:params:scim:event:prov:';
$p = poll(10);
is_deeply([map { $_->[1]{events} } @{ $p->[1] }], [
    { "${P}patch:notice" => { attributes => ['active'], version => 'W/"4"' },
      "${P}deactivate" => {} },
    { "${P}put:notice" => { attributes => ['userName', 'active'],
                            version => 'W/"5"' },
      "${P}activate" => {} },
    { "${P}create:notice" => { attributes => ['id'], version => 'W/"6"' } },
    { "${P}patch:notice" => { attributes => ['members'],
                              version => 'W/"7"' } },
    { "${P}delete" => {} },
], 'patch + deactivate, put + activate, a create without paths, a member '
   . 'change, a delete');
is_deeply([map { $_->[1]{sub_id}{uri} } @{ $p->[1] }],
          ['/Users/u1', '/Users/u2', '/Groups/g1', '/Groups/g1', '/Users/u3'],
          '... their sub_id URIs');

# trimmed while pending: acknowledged, skipped
$l->cmd('XTRIM', $S, 'MAXLEN', 0);
create('User', 'u9', 'U9');
$p = poll(10);
is_deeply([map { $_->[1]{sub_id}{uri} } @{ $p->[1] }], ['/Users/u9'],
          'entries trimmed while pending: skipped, the new one delivered');
is($l->cmd('XPENDING', $S, 'scim-feed')->[0], 1,
   '... and the trimmed ones no longer pending');

$t->finish;
