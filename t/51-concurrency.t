#!/usr/bin/perl

# Atomicity under concurrent clients (forked): 40 POSTs of one userName ->
# exactly one 201; distinct POSTs all succeed; concurrent DELETEs, renames
# and PATCHes of one user; a mixed load; keep-alive; and, at the end, the
# Redis indexes agree with the stored resources.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use ScimTest;

my $t = ScimTest->new(workers => 2);
my $T = 'acme';

$t->write_config($t->standard_conf);
$t->start_nginx_ok;

sub zcard { $t->redis_cmd('ZCARD', "scim:{$T}:User:ids") // -1 }
sub statuses { my %c; $c{ ref $_ ? $_->[0] : ($_ // 'none') }++ for @{ $_[0] }; \%c }

# ------------------------------------------- 40 POSTs of one userName

my $n0 = zcard();
my $name = 'race@example.com';
my $out = $t->parallel(40, sub {
    my $i = shift;
    my $un = $i % 3 == 0 ? uc $name : $i % 3 == 1 ? $name : ucfirst $name;
    my $r = $t->post('Users', entra_user(userName => $un), keepalive => 0);
    return [ $r->{status}, $r->{json}{scimType} // '', $r->{json}{id} // '' ];
});
my $c = statuses($out);
is($c->{201} // 0, 1, '40 concurrent POSTs of one userName (3 cases): exactly one 201')
    or diag explain $c;
is($c->{409} // 0, 39, '... and 39 409') or diag explain $c;
ok(!grep({ ref $_ && $_->[0] == 409 && $_->[1] ne 'uniqueness' } @$out),
   '... all 409s are scimType uniqueness');
is(zcard(), $n0 + 1, 'one user stored');
my ($winner) = map { $_->[2] } grep { ref $_ && $_->[0] == 201 } @$out;
is($t->redis_cmd('HGET', "scim:{$T}:User:idx:userName", $name), $winner // 'none',
   'idx:userName points to the winner');
is_list_response($t->list(filter => qq(userName eq "$name")), 1, 1, 'filter finds one');

# ------------------------------------------- 40 POSTs of distinct names

$n0 = zcard();
$out = $t->parallel(40, sub {
    my $i = shift;
    my $r = $t->post('Users', entra_user(userName => "distinct$i\@example.com"), keepalive => 0);
    return [ $r->{status}, $r->{json}{id} // '' ];
});
$c = statuses($out);
is($c->{201} // 0, 40, '40 concurrent POSTs of distinct names: 40 x 201') or diag explain $c;
my %ids = map { $_->[1] => 1 } grep { ref $_ } @$out;
is(scalar keys %ids, 40, '40 distinct ids');
is(zcard(), $n0 + 40, '40 users stored');
my $bad = 0;
for my $i (0 .. 39) {
    my $id = ref $out->[$i] ? $out->[$i][1] : '';
    my $r = $t->get("Users/$id");
    $bad++ unless $r->{status} == 200 && ($r->{json}{userName} // '') eq "distinct$i\@example.com";
}
is($bad, 0, 'each id holds its own user');

# ----------------------------------------------- concurrent DELETE

my $victim = $t->create_user(entra_user())->{json}{id} // 'none';
$out = $t->parallel(10, sub { $t->delete("Users/$victim", keepalive => 0)->{status} });
$c = statuses($out);
is($c->{204} // 0, 1, '10 concurrent DELETEs of one user: one 204') or diag explain $c;
is($c->{404} // 0, 9, '... nine 404') or diag explain $c;

# ------------------------------------- concurrent renames to one name

my @rn = map { $t->create_user(entra_user(userName => "rename$_\@example.com"))->{json}{id} // "x$_" } 0 .. 9;
$out = $t->parallel(10, sub {
    my $i = shift;
    my $r = $t->patch_ops($rn[$i], { op => 'Replace', path => 'userName', value => 'Taken@example.com' });
    return [ $r->{status}, $r->{json}{scimType} // '' ];
});
$c = statuses($out);
is($c->{200} // 0, 1, '10 users renamed to one userName at once: one 200') or diag explain $c;
is($c->{409} // 0, 9, '... nine 409') or diag explain $c;
my ($rw) = grep { ref $out->[$_] && $out->[$_][0] == 200 } 0 .. 9;
is($t->redis_cmd('HGET', "scim:{$T}:User:idx:userName", 'taken@example.com'),
   defined $rw ? $rn[$rw] : 'none', 'idx:userName points to the renamed user');
my $kept = 0;
for my $i (grep { !defined $rw || $_ != $rw } 0 .. 9) {
    $kept++ if ($t->get("Users/$rn[$i]")->{json}{userName} // '') eq "rename$i\@example.com"
        && ($t->redis_cmd('HGET', "scim:{$T}:User:idx:userName", "rename$i\@example.com") // '') eq $rn[$i];
}
is($kept, 9, 'the nine losers keep their names and index entries');

# ------------------------------------- concurrent PATCHes of one user

my $pu = $t->create_user(entra_user())->{json}{id} // 'none';
$out = $t->parallel(10, sub {
    my $i = shift;
    my $r = $t->patch_ops($pu, { op => 'Add', path => qq(emails[type eq "t$i"].value),
                                 value => "e$i\@example.com" });
    return $r->{status};
});
$c = statuses($out);
ok(!grep({ !defined $_ || !/^(200|409|412|503)$/ } @$out),
   '10 concurrent PATCHes of one user: each 200 (or a clean 409/412/503)')
    or diag explain $c;
ok(($c->{200} // 0) >= 1, 'at least one PATCH succeeded') or diag explain $c;
my $final = $t->get("Users/$pu")->{json} // {};
my @lost = grep { ($out->[$_] // 0) == 200
                  && !defined scim_get_path($final, qq(emails[type eq "t$_"].value)) } 0 .. 9;
is_deeply(\@lost, [], 'no acknowledged PATCH lost (read-modify-write is versioned)');
# writers racing on one resource back off and retry: none is refused
is($c->{200} // 0, 10, 'all 10 PATCHes succeeded') or diag explain $c;

# ----------------------------------------------------- mixed load

$out = $t->parallel(8, sub {
    my $i = shift;
    my @err;
    for my $k (1 .. 10) {
        my $un = "mix$i-$k\@example.com";
        my $r = $t->post('Users', entra_user(userName => $un));
        push @err, "POST $r->{status}" and next unless $r->{status} == 201;
        my $id = $r->{json}{id};
        $r = $t->get("Users/$id");
        push @err, "GET $r->{status}" unless $r->{status} == 200 && $r->{json}{userName} eq $un;
        $r = $t->list(filter => qq(userName eq "$un"));
        push @err, "filter" unless $r->{status} == 200 && ($r->{json}{totalResults} // 0) == 1;
        $r = $t->patch_ops($id, { op => 'Replace', path => 'displayName', value => "D$k" });
        push @err, "PATCH $r->{status}" unless $r->{status} == 200 && $r->{json}{displayName} eq "D$k";
        if ($k % 2) {
            $r = $t->delete("Users/$id");
            push @err, "DELETE $r->{status}" unless $r->{status} == 204;
        }
    }
    return \@err;
});
is_deeply($out, [ ([]) x 8 ], '8 clients x 10 rounds of POST/GET/filter/PATCH/DELETE: all as expected')
    or diag explain $out;

# ------------------------------------------------------- keep-alive

my $sock;
my $okn = 0;
my $same = 1;
for (1 .. 200) {
    my $r = $t->get("Users/$pu");
    $okn++ if $r->{status} == 200;
    my $s = $t->{conn}{$t->port}{sock};
    $same = 0 if defined $sock && (!defined $s || $s != $sock);
    $sock //= $s;
}
is($okn, 200, '200 GETs on one keep-alive connection');
ok($same, '... all on the same connection');

# ------------------------------------------- indexes agree with data

my $ids = $t->redis_cmd('ZRANGE', "scim:{$T}:User:ids", 0, -1) // [];
my $idx = { @{ $t->redis_cmd('HGETALL', "scim:{$T}:User:idx:userName") // [] } };
my @problems;
for my $id (@$ids) {
    my $doc = json_decode($t->redis_cmd('HGET', "scim:{$T}:User:docs", $id) // '');
    unless ($doc) { push @problems, "$id: no document"; next }
    my $k = lc($doc->{userName} // '');
    push @problems, "$id: idx:userName{$k} = " . ($idx->{$k} // 'none')
        unless ($idx->{$k} // '') eq $id;
}
is(scalar keys %$idx, scalar @$ids, 'idx:userName has one entry per user');
is_deeply(\@problems, [], 'every stored user is in idx:userName under its own id');
my @docs = @{ $t->redis_cmd('HKEYS', "scim:{$T}:User:docs") // [] };
my %in = map { ($_ => 1) } @$ids;
my @orphans = grep { !$in{$_} } @docs;
is_deeply(\@orphans, [], 'no orphan resource documents (every id in scim:{T}:User:docs has its id in the zset)')
    or diag join("\n", map { "$_ = " . substr($t->redis_cmd('HGET', "scim:{$T}:User:docs", $_) // '', 0, 200) } @orphans);
is(scalar @docs, scalar @$ids, 'one resource document per id');
is_list_response($t->list(count => 0), scalar @$ids, 0, 'totalResults == size of the ids zset');

$t->finish;
