#!/usr/bin/perl

# DELETE in one Redis call (issue 13): the script reads the document,
# checks the version and deletes it with every index entry, folding the
# name and e-mails itself when they are ASCII; MONITOR shows one script
# call from nginx and no read before it.  A userName, displayName or
# e-mail that is not ASCII (Å, the long s that the C core folds to "s",
# the Kelvin sign) takes two calls, the second with the values the C core
# folds, and leaves no index entry either.  Groups; If-Match: a wrong
# version 412 in one call, a list of versions read first as before; 404;
# a manager's reports lose it, with their events.

use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Encode qw(encode_utf8);
use ScimTest;

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $t = ScimTest->new(workers => 2);
my $T = 'acme';
my $P = "scim:{$T}:";

$t->write_config($t->standard_conf(tenant => $T));
$t->start_nginx_ok;

# the commands Redis ran while the sub ran, each as [source, COMMAND,
# args...]: source "lua" for a script's own commands, else the client
sub monitor { $t->redis_monitor($_[0], source => 1) }

my %SCRIPT = map { $_ => 1 } qw(EVALSHA EVAL EVALSHA_RO EVAL_RO FCALL
                                FCALL_RO);

# a DELETE under MONITOR: (response, the client's commands other than
# connection upkeep: [COMMAND, ...])
sub delete_watched {
    my ($path, %h) = @_;
    my $r;
    my $m = monitor(sub {
        $r = $t->del($path, headers => \%h);
    });
    my @c = map { $SCRIPT{$_->[1]} ? 'call' : $_->[1] } grep {
        $_->[0] eq 'client' && $_->[1] !~ /^(?:PING|CLUSTER|INFO|ROLE|ECHO)$/
    } @$m;
    return ($r, \@c);
}

sub user {
    my (%b) = @_;
    my $r = $t->post('Users', { schemas => [URN_USER, URN_ENT], %b });
    is($r->{status}, 201, "user $b{userName} created")
        or diag explain $r->{json};
    return $r->{json} // {};
}

sub group {
    my ($name, @members) = @_;
    my $r = $t->post('Groups', { schemas => [URN_GROUP],
                                 displayName => $name,
                                 members => [map { { value => $_ } }
                                             @members] });
    is($r->{status}, 201, "group $name created") or diag explain $r->{json};
    return $r->{json} // {};
}

# every index entry of a deleted resource is gone: no key, hash field or
# zset member of the tenant names its id, no name index maps to it
sub gone_ok {
    my ($id, $what, %o) = @_;
    is_deeply($t->redis_mentions($P, $id), [],
              "$what: no key, field or member holds its id");
    for my $k ('User:idx:userName', 'Group:idx:displayName',
               'User:display', 'Group:display', 'User:manager')
    {
        my $h = scalar $t->redis_cmd('HGETALL', "$P$k") // [];
        my %h = @$h;
        is_deeply([grep { $h{$_} eq $id } sort keys %h], [],
                  "$what: no $k entry maps to it");
    }
    for my $name (@{ $o{names} // [] }) {
        is(scalar $t->redis_cmd('HGET', "$P$o{index}", encode_utf8($name)),
           undef,
           "$what: its folded name \"$name\" is out of $o{index}");
    }
    for my $e (@{ $o{emails} // [] }) {
        is_deeply(scalar $t->redis_cmd('ZRANGEBYLEX', "${P}User:idx:email",
                                       '[' . encode_utf8($e) . "\0",
                                       '(' . encode_utf8($e) . "\1"), [],
                  "$what: its folded e-mail \"$e\" is out of the index");
    }
    if (defined $o{ext}) {
        is_deeply($t->redis_ext_ids($P, $o{type} // 'User', $o{ext}), [],
                  "$what: out of the externalId index");
    }
}

# warm up: the scripts loaded, the connections made
$t->del('Users/' . (user(userName => 'warm-up')->{id} // 'x'));

# an ASCII user, manager of another, in nested groups: one call
my $boss = user(userName => 'Boss', externalId => 'b-1');
my $ann = user(userName => 'Ann.Lee@Example.ORG', externalId => 'Ext-Ann',
               emails => [{ value => 'Ann@Example.ORG', type => 'work' },
                          { value => 'ann.lee@HOME.example' }],
               URN_ENT() => { manager => { value => $boss->{id} } });
my $rep = user(userName => 'report', emails => [{ value => 'r@x.org' }],
               URN_ENT() => { department => 'D',
                              manager => { value => $ann->{id} } });
my $g1 = group('Inner', $ann->{id}, $rep->{id});
my $g2 = group('Outer', $g1->{id}, $ann->{id});
my $nev = @{ scalar $t->redis_cmd('XRANGE', "${P}events", '-', '+') // [] };

my ($r, $c) = delete_watched("Users/$ann->{id}");
is($r->{status}, 204, 'DELETE of an ASCII user -> 204');
is_deeply($c, ['call'],
          '... one script call from nginx, and no read before it');
gone_ok($ann->{id}, 'the ASCII user', index => 'User:idx:userName',
        names => ['ann.lee@example.org'],
        emails => ['ann@example.org', 'ann.lee@home.example'],
        ext => 'Ext-Ann');
is($t->get("Users/$ann->{id}")->{status}, 404, '... GET -> 404');
is_deeply($t->redis_members($P, $g1->{id}), [$rep->{id}],
          "... out of its group's members");
is_deeply($t->redis_members($P, $g2->{id}), [$g1->{id}], '... of every one');
my $rg = $t->get("Users/$rep->{id}");
is($rg->{status}, 200, 'its report is there');
is_deeply($rg->{json}{URN_ENT()}, { department => 'D' },
          '... without its manager');
isnt($rg->{json}{meta}{version}, $rep->{meta}{version},
     '... at a new version');
my $ev = scalar $t->redis_cmd('XRANGE', "${P}events", '-', '+') // [];
my @new = map { +{ @{ $_->[1] } } } @$ev[$nev .. $#$ev];
is_deeply([map { "$_->{type} $_->{id} $_->{version}" } @new],
          ["delete $ann->{id} " . ($ann->{meta}{version} =~ s/\D//gr),
           "patch $rep->{id} " . ($rg->{json}{meta}{version} =~ s/\D//gr)],
          '... the events: the delete, and the patch of its report');
is($new[1]{paths} // '', '["' . URN_ENT . ':manager"]',
   '... the patch names the manager');

# not ASCII: two calls, the second with the C core's folding
my %na = (
    'a userName with Å' => [
        { userName => 'ÅSA@x', externalId => 'ëxt-1',
          emails => [{ value => 'Åsa@X.org' }, { value => 'plain@x.org' }] },
        ['åsa@x'], ['åsa@x.org', 'plain@x.org'], 'ëxt-1'],
    'a userName with a long s' => [
        { userName => "\x{17F}am.Z", externalId => 'kx',
          emails => [{ value => 'kz@x.org' }] },
        ['sam.z'], ['kz@x.org'], 'kx'],
    'a userName with the Kelvin sign' => [
        { userName => "\x{212A}elvin", emails => [{ value => 'kz@x.org' }] },
        [], ['kz@x.org'], undef],
    'an ASCII userName, e-mails not ASCII' => [
        { userName => 'ascii.name',
          emails => [{ value => "\x{212A}\@K.org" },
                     { value => "\x{17F}\@x.org" },
                     { value => 'ÖLA@x.org' }] },
        ['ascii.name'], ['s@x.org', 'öla@x.org'], undef],
);
my $nsub = 0;
for my $what (sort keys %na) {
    my ($body, $names, $emails, $ext) = @{ $na{$what} };
    my $u = user(%$body, URN_ENT() => { manager => { value => $boss->{id} } });
    my $sub = user(userName => 'sub ' . ++$nsub,
                   URN_ENT() => { manager => { value => $u->{id} } });
    my $g = group("G $what", $u->{id}, $boss->{id});
    my %names = @{ scalar $t->redis_cmd('HGETALL', "${P}User:idx:userName") };
    is(scalar(grep { $names{$_} eq $u->{id} } keys %names), 1,
       "$what: its folded name is indexed");
    is($names{encode_utf8($_)}, $u->{id}, "... as \"$_\"") for @$names;
    my $nem = grep { /\x00\Q$u->{id}\E$/ } @{ scalar $t->redis_cmd('ZRANGE',
        "${P}User:idx:email", 0, -1) };
    is($nem, scalar @{ $body->{emails} }, '... its e-mails are');
    ($r, $c) = delete_watched("Users/$u->{id}");
    is($r->{status}, 204, "$what: DELETE -> 204");
    is_deeply($c, ['call', 'call'],
              '... two script calls (the first gave the document back)');
    gone_ok($u->{id}, $what, index => 'User:idx:userName', names => $names,
            emails => $emails, ext => $ext);
    is_deeply($t->redis_members($P, $g->{id}), [$boss->{id}],
              "... out of its group");
    ok(!exists $t->get("Users/$sub->{id}")->{json}{URN_ENT()},
       '... its report lost it as manager');
}

# groups
my $ga = group('Team ASCII', $boss->{id}, $g1->{id});
my $gp = group('Parent', $ga->{id});
($r, $c) = delete_watched("Groups/$ga->{id}");
is($r->{status}, 204, 'DELETE of a group -> 204');
is_deeply($c, ['call'], '... one script call');
gone_ok($ga->{id}, 'the group', index => 'Group:idx:displayName',
        names => ['team ascii']);
is_deeply($t->redis_members($P, $gp->{id}), [], '... out of its parent');
ok(!grep({ $_ eq $ga->{id} } @{ $t->redis_groups_of($P, $boss->{id}) }),
   "... its members' reverse entries gone");

my $gn = group('Grüne Ä', $boss->{id});
($r, $c) = delete_watched("Groups/$gn->{id}");
is($r->{status}, 204, 'DELETE of a group named not in ASCII -> 204');
is_deeply($c, ['call', 'call'], '... two script calls');
gone_ok($gn->{id}, 'the group not ASCII', index => 'Group:idx:displayName',
        names => ['grüne ä']);

# If-Match
my $v = user(userName => 'versioned', emails => [{ value => 'v@x.org' }]);
my $etag = $v->{meta}{version};
($r, $c) = delete_watched("Users/$v->{id}", 'If-Match' => 'W/"999999"');
is_scim_error($r, 412, undef, 'If-Match of another version -> 412');
like($r->{json}{detail} // '', qr/\Q$etag\E/, '... naming the current one');
is_deeply($c, ['call'], '... in one call');
is($t->get("Users/$v->{id}")->{status}, 200, '... nothing deleted');
($r, $c) = delete_watched("Users/$v->{id}",
                          'If-Match' => qq(W/"999998", $etag));
is($r->{status}, 204, 'If-Match listing the version among others -> 204');
is_deeply($c, ['call', 'call'], '... read first, then deleted');
gone_ok($v->{id}, 'that user', index => 'User:idx:userName',
        names => ['versioned'], emails => ['v@x.org']);

my $w = user(userName => 'versioned 2');
($r, $c) = delete_watched("Users/$w->{id}",
                          'If-Match' => $w->{meta}{version});
is($r->{status}, 204, 'If-Match of its version -> 204');
is_deeply($c, ['call'], '... in one call');

# a user in no group who manages nobody: the script's own commands
# remove no empty range (ZREMRANGEBYLEX), and change no e-mail entry
# but its own
my $lone = user(userName => 'lone', emails => [{ value => 'lone@x.org' }]);
my $lm = monitor(sub { $r = $t->del("Users/$lone->{id}") });
is($r->{status}, 204, 'DELETE of a user in no group, manager of nobody');
is_deeply([map { $_->[1] } grep { $_->[0] eq 'lua' && $_->[1] =~ /^ZREM/ } @$lm],
          ['ZREM', 'ZREM'], '... its script removes its ids and e-mail '
          . 'entries, and no empty range');
gone_ok($lone->{id}, 'that user', index => 'User:idx:userName',
        names => ['lone'], emails => ['lone@x.org']);

my $x = user(userName => 'versioned ünï');
($r, $c) = delete_watched("Users/$x->{id}",
                          'If-Match' => $x->{meta}{version});
is($r->{status}, 204, 'If-Match of its version, a name not ASCII -> 204');
is_deeply($c, ['call', 'call'], '... in two calls');
gone_ok($x->{id}, 'that user', index => 'User:idx:userName',
        names => ['versioned ünï']);

# 404
($r, $c) = delete_watched("Users/$w->{id}");
is_scim_error($r, 404, undef, 'DELETE of a deleted user -> 404');
is_deeply($c, ['call'], '... in one call');
is_scim_error($t->del('Groups/' . $boss->{id}), 404,
              undef, 'DELETE of a user as a group -> 404');
ok($t->get("Users/$boss->{id}")->{status} == 200, '... the user is kept');

$t->finish;
