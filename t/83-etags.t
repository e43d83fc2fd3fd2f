#!/usr/bin/perl

# ETags (issue 4; RFC 7644 3.14, RFC 7232): weak ETags W/"n" equal to
# meta.version on every answer carrying a resource; a new version on
# every change; If-Match on PUT, PATCH, DELETE: current -> done, stale ->
# 412 SCIM error with nothing changed, "*" -> done, a list holding the
# current one -> done; If-None-Match on GET: current (weak or strong
# form, "*", in a list) -> 304 without a body, stale -> 200; users and
# groups (also the group-member PATCH); concurrent PUTs with the same
# If-Match: exactly one wins.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use ScimTest;

my $t = ScimTest->new(workers => 2);
$t->write_config($t->standard_conf);
$t->start_nginx_ok;

my $WEAK = qr/^W\/"[^"]+"$/;

sub vnum { my ($e) = @_; defined $e && $e =~ /^W\/"(\d+)"$/ ? $1 : undef }

sub user_body {
    my ($name, %o) = @_;
    return { schemas => [URN_USER], userName => $name, %o };
}

sub rv { ($_[0]{json} // {})->{meta}{version} }

# ---------------------------------------------------------------- users

my $r = $t->post('Users', user_body('etag.user', displayName => 'E 1'));
is_scim_json($r, 201, 'POST user');
my $id = $r->{json}{id} // 'none';
my $v1 = rv($r);
like($v1 // '', $WEAK, 'meta.version is a weak ETag W/"..."');
is($r->{headers}{etag}, $v1, 'POST: ETag header == meta.version');

$r = $t->get("Users/$id");
is($r->{headers}{etag}, $v1, 'GET: ETag header == meta.version');
is(rv($r), $v1, 'GET: meta.version unchanged');

# If-None-Match on GET
$r = $t->get("Users/$id", headers => { 'If-None-Match' => $v1 });
is($r->{status}, 304, 'GET If-None-Match: current -> 304');
is($r->{content}, '', '304: no body');
is($r->{headers}{etag}, $v1, '304: ETag header present');
ok(!defined $r->{headers}{'content-length'} || $r->{headers}{'content-length'} == 0,
   '304: no content');
$r = $t->get("Users/$id", headers => { 'If-None-Match' => 'W/"999999"' });
is_scim_json($r, 200, 'GET If-None-Match: stale -> 200');
is($r->{json}{id}, $id, '... with the resource');
(my $strong = $v1 // '') =~ s/^W\///;
$r = $t->get("Users/$id", headers => { 'If-None-Match' => $strong });
is($r->{status}, 304, 'GET If-None-Match: the strong form "n" of the current (weak comparison) -> 304');
$r = $t->get("Users/$id", headers => { 'If-None-Match' => '*' });
is($r->{status}, 304, 'GET If-None-Match: * -> 304');
$r = $t->get("Users/$id", headers => { 'If-None-Match' => qq(W/"999998", $v1) });
is($r->{status}, 304, 'GET If-None-Match: a list holding the current -> 304');
$r = $t->get("Users/$id", headers => { 'If-None-Match' => 'W/"1' . (vnum($v1) // 0) . '"' });
is($r->{status}, 200, 'GET If-None-Match: a version that only contains the current digits -> 200')
    or diag("If-None-Match W/\"1" . (vnum($v1) // 0) . "\" vs $v1");
$r = $t->get("Users/$id?" . qs(attributes => 'userName'), headers => { 'If-None-Match' => $v1 });
is($r->{status}, 304, 'GET with attributes and If-None-Match current -> 304');

# list items carry the same version
$r = $t->list(filter => 'userName eq "etag.user"');
is(((($r->{json}{Resources} // [])->[0] // {})->{meta} // {})->{version}, $v1,
   'a list item\'s meta.version == the resource\'s ETag');

# PUT
$r = $t->put("Users/$id", user_body('etag.user', displayName => 'E 2'),
             headers => { 'If-Match' => $v1 });
is_scim_json($r, 200, 'PUT If-Match: current -> 200');
my $v2 = rv($r);
like($v2 // '', $WEAK, 'PUT: new meta.version');
isnt($v2, $v1, 'PUT: the version changed');
is($r->{headers}{etag}, $v2, 'PUT: ETag header == new meta.version');
is($t->get("Users/$id")->{headers}{etag}, $v2, 'GET after PUT: the new ETag');

$r = $t->get("Users/$id", headers => { 'If-None-Match' => $v1 });
is_scim_json($r, 200, 'GET If-None-Match: the old version after a change -> 200');

$r = $t->put("Users/$id", user_body('etag.user', displayName => 'E stale'),
             headers => { 'If-Match' => $v1 });
is_scim_error($r, 412, undef, 'PUT If-Match: stale -> 412 SCIM error');
$r = $t->get("Users/$id");
is($r->{json}{displayName}, 'E 2', 'stale PUT changed nothing');
is(rv($r), $v2, '... the version neither');

$r = $t->put("Users/$id", user_body('etag.user', displayName => 'E 3'),
             headers => { 'If-Match' => '*' });
is_scim_json($r, 200, 'PUT If-Match: * -> 200');
my $v3 = rv($r);
isnt($v3, $v2, '... new version');

$r = $t->put("Users/$id", user_body('etag.user', displayName => 'E 4'),
             headers => { 'If-Match' => qq(W/"1", $v3) });
is_scim_json($r, 200, 'PUT If-Match: a list holding the current -> 200');
my $v4 = rv($r) // $v3;

# PATCH
my $before = $t->get("Users/$id")->{json}{displayName} // 'none';
$r = $t->patch("Users/$id", patch_body({ op => 'replace', path => 'displayName', value => 'P stale' }),
               headers => { 'If-Match' => $v1 });
is_scim_error($r, 412, undef, 'PATCH If-Match: stale -> 412');
is($t->get("Users/$id")->{json}{displayName}, $before, 'stale PATCH changed nothing');
$r = $t->patch("Users/$id", patch_body({ op => 'replace', path => 'displayName', value => 'P 1' }),
               headers => { 'If-Match' => $v4 });
is_scim_json($r, 200, 'PATCH If-Match: current -> 200');
my $v5 = rv($r);
isnt($v5, $v4, 'PATCH: new version');
is($r->{headers}{etag}, $v5, 'PATCH: ETag header == new meta.version');
(my $v5s = $v5 // '') =~ s/^W\///;
$r = $t->patch("Users/$id", patch_body({ op => 'replace', path => 'displayName', value => 'P 2' }),
               headers => { 'If-Match' => $v5s });
is_scim_json($r, 200, 'PATCH If-Match: the strong form "n" of the current -> 200');
my $v6 = rv($r);
$r = $t->patch("Users/$id", patch_body({ op => 'replace', path => 'displayName', value => 'P 3' }),
               headers => { 'If-Match' => '*' });
is_scim_json($r, 200, 'PATCH If-Match: * -> 200');
my $v7 = rv($r);
$r = $t->patch("Users/$id", patch_body({ op => 'replace', path => 'displayName', value => 'P x' }),
               headers => { 'If-Match' => 'W/"garbage"' });
is_scim_error($r, 412, undef, 'PATCH If-Match: a version never issued -> 412');
$r = $t->patch("Users/$id", patch_body({ op => 'replace', path => 'displayName', value => 'P y' }),
               headers => { 'If-Match' => $v6 });
is_scim_error($r, 412, undef, 'PATCH If-Match: the previous version -> 412');

# versions grow
my @vs = map { vnum($_) } $v1, $v2, $v3, $v4, $v5, $v6, $v7;
ok(!grep({ !defined } @vs) && join(',', @vs) eq join(',', sort { $a <=> $b } @vs),
   'versions increase with every change') or diag("@{[ map { $_ // 'undef' } @vs ]}");

# DELETE
$r = $t->del("Users/$id", headers => { 'If-Match' => $v1 });
is_scim_error($r, 412, undef, 'DELETE If-Match: stale -> 412');
is($t->get("Users/$id")->{status}, 200, '... the user is still there');
$r = $t->del("Users/$id", headers => { 'If-Match' => $v7 });
is($r->{status}, 204, 'DELETE If-Match: current -> 204');
is_scim_error($t->get("Users/$id"), 404, undef, '... gone');

my $id2 = $t->post('Users', user_body('etag.star'))->{json}{id} // 'none';
is($t->del("Users/$id2", headers => { 'If-Match' => '*' })->{status}, 204, 'DELETE If-Match: * -> 204');

# a resource that is not there
$r = $t->put("Users/$id", user_body('etag.user'), headers => { 'If-Match' => $v7 });
ok($r->{status} == 404 || $r->{status} == 412, 'PUT If-Match on a deleted resource -> 404 or 412')
    or diag("HTTP $r->{status}");
$r = $t->get("Users/$id", headers => { 'If-None-Match' => $v7 });
is_scim_error($r, 404, undef, 'GET If-None-Match on a deleted resource -> 404');

# -------------------------------------------------------------- groups

my @m = map { $t->post('Users', user_body("member$_"))->{json}{id} // "none$_" } 1 .. 3;
$r = $t->post('Groups', { schemas => [URN_GROUP], displayName => 'ETag Group',
                          members => [{ value => $m[0] }] });
is_scim_json($r, 201, 'POST group');
my $gid = $r->{json}{id} // 'none';
my $g1 = rv($r);
like($g1 // '', $WEAK, 'group meta.version is a weak ETag');
is($r->{headers}{etag}, $g1, 'group POST: ETag header');
$r = $t->get("Groups/$gid", headers => { 'If-None-Match' => $g1 });
is($r->{status}, 304, 'group GET If-None-Match current -> 304');

# member PATCH (Entra's add/remove)
$r = $t->patch("Groups/$gid", patch_body({ op => 'add', path => 'members', value => [{ value => $m[1] }] }),
               headers => { 'If-Match' => 'W/"999999"' });
is_scim_error($r, 412, undef, 'group member add with a stale If-Match -> 412');
$r = $t->get("Groups/$gid");
is(scalar(@{ $r->{json}{members} // [] }), 1, '... no member added');
is(rv($r), $g1, '... version unchanged');

$r = $t->patch("Groups/$gid", patch_body({ op => 'add', path => 'members', value => [{ value => $m[1] }] }),
               headers => { 'If-Match' => $g1 });
ok($r->{status} == 200 || $r->{status} == 204, 'group member add with the current If-Match -> 200/204')
    or diag("HTTP $r->{status} $r->{content}");
$r = $t->get("Groups/$gid");
my $g2 = rv($r);
is(scalar(@{ $r->{json}{members} // [] }), 2, '... member added');
isnt($g2, $g1, '... the group has a new version');
is($r->{headers}{etag}, $g2, '... ETag header of the new version');

$r = $t->patch("Groups/$gid", patch_body({ op => 'remove', path => qq(members[value eq "$m[0]"]) }),
               headers => { 'If-Match' => $g1 });
is_scim_error($r, 412, undef, 'group member remove with the old version -> 412');
is(scalar(@{ $t->get("Groups/$gid")->{json}{members} // [] }), 2, '... nothing removed');

$r = $t->patch("Groups/$gid", patch_body({ op => 'replace', path => 'displayName', value => 'Renamed' }),
               headers => { 'If-Match' => $g1 });
is_scim_error($r, 412, undef, 'group rename with the old version -> 412');

$r = $t->put("Groups/$gid", { schemas => [URN_GROUP], displayName => 'ETag Group 2',
                              members => [{ value => $m[2] }] }, headers => { 'If-Match' => $g1 });
is_scim_error($r, 412, undef, 'group PUT with the old version -> 412');
$r = $t->put("Groups/$gid", { schemas => [URN_GROUP], displayName => 'ETag Group 2',
                              members => [{ value => $m[2] }] }, headers => { 'If-Match' => $g2 });
is_scim_json($r, 200, 'group PUT with the current version -> 200');
my $g3 = rv($r);
is($r->{headers}{etag}, $g3, 'group PUT: ETag header');
is_scim_error($t->del("Groups/$gid", headers => { 'If-Match' => $g2 }), 412, undef,
              'group DELETE with the old version -> 412');
is($t->del("Groups/$gid", headers => { 'If-Match' => $g3 })->{status}, 204,
   'group DELETE with the current version -> 204');

# --------------------------------------------- concurrent If-Match PUTs

my $cid = $t->post('Users', user_body('etag.race'))->{json}{id} // 'none';
my $cv = $t->get("Users/$cid")->{headers}{etag} // 'none';
my $res = $t->parallel(8, sub {
    my ($i) = @_;
    my $r = $t->put("Users/$cid", user_body('etag.race', displayName => "racer $i"),
                    headers => { 'If-Match' => $cv }, keepalive => 0);
    return $r->{status};
});
my %st;
$st{ $_ // 'none' }++ for @$res;
is($st{200} // 0, 1, '8 concurrent PUTs with the same If-Match: exactly one 200')
    or diag explain \%st;
is($st{412} // 0, 7, '... the other 7 get 412') or diag explain \%st;

$t->finish;
