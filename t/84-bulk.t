#!/usr/bin/perl

# POST /Bulk (issue 4; RFC 7644 3.7): BulkRequest -> 200 BulkResponse;
# POST/PUT/PATCH/DELETE operations with per-operation status (a string),
# location, version and, for failures, a SCIM error "response"; bulkId
# references in paths and in data (group members "bulkId:x", enterprise
# manager), forward references, circular references, an unresolvable
# reference -> that operation 409; failOnErrors stops after N errors;
# maxOperations (scim_bulk_max_operations) and maxPayloadSize
# (client_max_body_size) enforced -> 413 SCIM error, and advertised in
# /ServiceProviderConfig; bad requests; GET /Bulk -> 405.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use ScimTest;

my $t = ScimTest->new(workers => 2);
my $port = $t->port;
my $BASE = "http://127.0.0.1:$port/scim/v2";

$t->write_config($t->standard_conf(server_extra => <<'EOF'));
    location /five/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant five;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_bulk_max_operations 5;
    }

    location /small/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant small;
        scim_bearer_token_file %%TOKEN_FILE%%;
        client_max_body_size 4k;
    }
EOF
$t->start_nginx_ok;

use constant URN_BULK_REQ  => 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
use constant URN_BULK_RESP => 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';

sub bulk {
    my ($ops, %o) = @_;
    my $path = delete $o{path} // 'Bulk';
    my $body = { schemas => [URN_BULK_REQ], Operations => $ops };
    $body->{failOnErrors} = delete $o{failOnErrors} if exists $o{failOnErrors};
    return $t->post($path, $body, %o);
}

# one assertion: HTTP 200, BulkResponse, n operations
sub bulk_ok {
    my ($r, $n, $name) = @_;
    my @why;
    push @why, "HTTP $r->{status}" unless $r->{status} == 200;
    push @why, 'Content-Type not scim+json' unless scim_ctype_ok($r);
    my $j = $r->{json} // {};
    push @why, 'schemas is not [BulkResponse]'
        unless grep { $_ eq URN_BULK_RESP } @{ $j->{schemas} // [] };
    push @why, 'Operations is not an array' unless ref $j->{Operations} eq 'ARRAY';
    push @why, 'Operations has ' . scalar(@{ $j->{Operations} // [] }) . ", expected $n"
        if defined $n && ref $j->{Operations} eq 'ARRAY' && @{ $j->{Operations} } != $n;
    ok(!@why, $name) or diag(join("\n", @why, substr($r->{content} // '', 0, 1500)));
    return $j->{Operations} // [];
}

# one assertion on a result of an operation
sub op_is {
    my ($op, %w) = @_;
    my $name = delete $w{name};
    my @why;
    $op //= {};
    push @why, 'status is ' . (defined $op->{status} ? json_encode($op->{status}) : 'absent')
        . qq(, expected "$w{status}")
        unless defined $op->{status} && !ref $op->{status} && $op->{status} eq $w{status}
            && json_encode($op->{status}) eq qq("$w{status}");
    push @why, "method is " . ($op->{method} // 'absent') . ", expected $w{method}"
        if defined $w{method} && ($op->{method} // '') ne $w{method};
    push @why, "bulkId is " . ($op->{bulkId} // 'absent') . ", expected $w{bulkId}"
        if defined $w{bulkId} && ($op->{bulkId} // '') ne $w{bulkId};
    if ($w{status} =~ /^2/) {
        push @why, 'location is ' . ($op->{location} // 'absent')
            unless defined $op->{location} && $op->{location} =~ m{^\Q$BASE\E/(?:Users|Groups)/[^/]+$};
        push @why, 'location is not ' . $w{location}
            if defined $w{location} && ($op->{location} // '') ne $w{location};
        push @why, 'version is ' . ($op->{version} // 'absent')
            if $w{status} ne '204' && !(defined $op->{version} && $op->{version} =~ /^W\/"[^"]+"$/);
        push @why, 'a "response" on success' if $w{no_response} && exists $op->{response};
    } else {
        my $e = $op->{response};
        push @why, 'no SCIM error "response"'
            unless ref $e eq 'HASH' && grep({ $_ eq URN_ERROR } @{ $e->{schemas} // [] })
                && ($e->{status} // '') eq $w{status};
        push @why, 'scimType is ' . ($e->{scimType} // 'absent') . ", expected $w{scimType}"
            if defined $w{scimType} && (ref $e eq 'HASH' ? $e->{scimType} // '' : '') ne $w{scimType};
    }
    ok(!@why, $name) or diag(join("\n", @why, json_encode($op)));
}

sub id_of { my ($loc) = @_; defined $loc && $loc =~ m{/([^/]+)$} ? $1 : 'none' }

sub user_data { { schemas => [URN_USER], userName => $_[0], @_[1 .. $#_] } }

# ------------------------------------------------- RFC 7644 3.7.2 example

my $r = bulk([
    { method => 'POST', path => '/Users', bulkId => 'qwerty',
      data => user_data('Alice') },
    { method => 'POST', path => '/Groups', bulkId => 'ytrewq',
      data => { schemas => [URN_GROUP], displayName => 'Tour Guides',
                members => [{ type => 'User', value => 'bulkId:qwerty' }] } },
]);
my $ops = bulk_ok($r, 2, 'RFC 3.7.2 example: 200 BulkResponse with 2 results');
op_is($ops->[0], status => '201', method => 'POST', bulkId => 'qwerty',
      name => 'user POST: status "201", location, version, bulkId');
op_is($ops->[1], status => '201', method => 'POST', bulkId => 'ytrewq',
      name => 'group POST: status "201"');
my $alice = id_of($ops->[0]{location});
my $guides = id_of($ops->[1]{location});
$r = $t->get("Groups/$guides");
is_scim_json($r, 200, 'the group exists at its location');
is_deeply([ map { $_->{value} } @{ $r->{json}{members} // [] } ], [$alice],
          'members "bulkId:qwerty" resolved to the new user\'s id');
$r = $t->get("Users/$alice");
is($r->{json}{userName}, 'Alice', 'the user exists');
is($r->{headers}{etag}, $ops->[0]{version}, 'the version in the result is the user\'s ETag');
is_deeply([ map { $_->{value} } @{ $r->{json}{groups} // [] } ], [$guides], "... and is in the group");

# forward reference: the group comes first and names a user created later
$r = bulk([
    { method => 'POST', path => '/Groups', bulkId => 'g1',
      data => { schemas => [URN_GROUP], displayName => 'Forward',
                members => [{ type => 'User', value => 'bulkId:u1' }, { value => 'bulkId:u2' }] } },
    { method => 'POST', path => '/Users', bulkId => 'u1', data => user_data('Fwd One') },
    { method => 'POST', path => '/Users', bulkId => 'u2', data => user_data('Fwd Two') },
]);
$ops = bulk_ok($r, 3, 'forward references: 3 results');
op_is($_, status => '201', name => 'forward reference: result ' . ($_->{bulkId} // '?') . ' 201')
    for @$ops;
my %byb = map { ($_->{bulkId} // '') => $_ } @$ops;
is_deeply([ map { $_->{bulkId} // '' } @$ops ], ['g1', 'u1', 'u2'],
          'results in request order');
$r = $t->get('Groups/' . id_of($byb{g1}{location}));
is_deeply([ sort map { $_->{value} } @{ $r->{json}{members} // [] } ],
          [ sort map { id_of($byb{$_}{location}) } qw(u1 u2) ],
          'forward references resolved in members');

# references in paths and in other data
$r = bulk([
    { method => 'POST', path => '/Users', bulkId => 'mgr', data => user_data('Boss') },
    { method => 'POST', path => '/Users', bulkId => 'emp',
      data => user_data('Worker', schemas => [URN_USER, URN_ENT],
                        URN_ENT() => { manager => { value => 'bulkId:mgr' } }) },
    { method => 'POST', path => '/Groups', bulkId => 'team',
      data => { schemas => [URN_GROUP], displayName => 'Team' } },
    { method => 'PATCH', path => '/Groups/bulkId:team',
      data => patch_body({ op => 'add', path => 'members',
                           value => [{ value => 'bulkId:emp' }, { value => 'bulkId:mgr' }] }) },
    { method => 'PUT', path => '/Users/bulkId:emp',
      data => user_data('Worker', displayName => 'Worker Bee', schemas => [URN_USER, URN_ENT],
                        URN_ENT() => { manager => { value => 'bulkId:mgr' } }) },
    { method => 'POST', path => '/Users', bulkId => 'temp', data => user_data('Temp') },
    { method => 'DELETE', path => '/Users/bulkId:temp' },
]);
$ops = bulk_ok($r, 7, 'references in paths and data: 7 results');
%byb = map { ($_->{bulkId} // '') => $_ } grep { $_->{bulkId} } @$ops;
op_is($ops->[1], status => '201', name => 'POST with a bulkId in the enterprise manager');
op_is($ops->[3], status => (($ops->[3]{status} // '') eq '204' ? '204' : '200'), method => 'PATCH',
      location => "$BASE/Groups/" . id_of($byb{team}{location}),
      name => 'PATCH /Groups/bulkId:team -> "200" (or "204"), location of the group (resolved)');
op_is($ops->[4], status => '200', method => 'PUT',
      location => "$BASE/Users/" . id_of($byb{emp}{location}),
      name => 'PUT /Users/bulkId:emp -> "200", location, version');
op_is($ops->[6], status => '204', method => 'DELETE',
      location => "$BASE/Users/" . id_of($byb{temp}{location}),
      name => 'DELETE /Users/bulkId:temp -> "204", location of the user (resolved)');
my $emp = $t->get('Users/' . id_of($byb{emp}{location}))->{json} // {};
is((($emp->{+URN_ENT} // {})->{manager} // {})->{value}, id_of($byb{mgr}{location}),
   'manager "bulkId:mgr" resolved');
is($emp->{displayName}, 'Worker Bee', 'the PUT through a bulkId path applied');
$r = $t->get('Groups/' . id_of($byb{team}{location}));
is_deeply([ sort map { $_->{value} } @{ $r->{json}{members} // [] } ],
          [ sort map { id_of($byb{$_}{location}) } qw(emp mgr) ], 'the PATCH added both members');
is_scim_error($t->get('Users/' . id_of($byb{temp}{location})), 404, undef,
              'the user deleted through a bulkId path is gone');

# circular references (RFC 7644 3.7.1): resolved, or 409
$r = bulk([
    { method => 'POST', path => '/Groups', bulkId => 'ga',
      data => { schemas => [URN_GROUP], displayName => 'Circle A',
                members => [{ type => 'Group', value => 'bulkId:gb' }] } },
    { method => 'POST', path => '/Groups', bulkId => 'gb',
      data => { schemas => [URN_GROUP], displayName => 'Circle B',
                members => [{ type => 'Group', value => 'bulkId:ga' }] } },
]);
$ops = bulk_ok($r, 2, 'circular references: a BulkResponse with both results');
my @cst = sort map { $_->{status} // '' } @$ops;
ok("@cst" eq '201 201' || grep({ $_ eq '409' } @cst),
   'circular references: both created, or 409 (RFC 7644 3.7.1)') or diag("@cst");
op_is((grep { ($_->{status} // '') eq '409' } @$ops)[0], status => '409',
      name => '... a 409 carries a SCIM error') if grep { $_ eq '409' } @cst;

# ------------------------------------- plain operations and their errors

my $bob = $t->post('Users', user_data('bob', displayName => 'Bob'))->{json} // {};
my $carl = $t->post('Users', user_data('carl'))->{json} // {};
my $dave = $t->post('Users', user_data('dave'))->{json} // {};
$r = bulk([
    { method => 'POST', path => '/Users', bulkId => 'e1', data => user_data('eve') },
    { method => 'PUT', path => "/Users/$bob->{id}", version => $bob->{meta}{version},
      data => user_data('bob', displayName => 'Bob Put') },
    { method => 'PATCH', path => "/Users/$carl->{id}", version => $carl->{meta}{version},
      data => patch_body({ op => 'replace', path => 'displayName', value => 'Carl Patched' }) },
    { method => 'DELETE', path => "/Users/$dave->{id}", version => $dave->{meta}{version} },
], ctype => 'application/json');
$ops = bulk_ok($r, 4, 'POST, PUT, PATCH, DELETE with current versions (Content-Type application/json)');
op_is($ops->[0], status => '201', method => 'POST', bulkId => 'e1', no_response => 1,
      name => 'POST -> "201"');
op_is($ops->[1], status => '200', method => 'PUT', location => "$BASE/Users/$bob->{id}",
      no_response => 1, name => 'PUT -> "200", location, version');
op_is($ops->[2], status => '200', method => 'PATCH', location => "$BASE/Users/$carl->{id}",
      no_response => 1, name => 'PATCH -> "200", location, version');
op_is($ops->[3], status => '204', method => 'DELETE', location => "$BASE/Users/$dave->{id}",
      no_response => 1, name => 'DELETE -> "204", location');
is($t->get("Users/$bob->{id}")->{json}{displayName}, 'Bob Put', 'PUT applied');
is($t->get("Users/$bob->{id}")->{headers}{etag}, $ops->[1]{version}, 'PUT result version == ETag');
is($t->get("Users/$carl->{id}")->{json}{displayName}, 'Carl Patched', 'PATCH applied');
is($t->get("Users/$dave->{id}")->{status}, 404, 'DELETE applied');

$r = bulk([
    { method => 'POST', path => '/Users', bulkId => 'dup', data => user_data('BOB') },
    { method => 'POST', path => '/Users', bulkId => 'nouser', data => { schemas => [URN_USER] } },
    { method => 'PUT', path => '/Users/00000000-0000-4000-8000-000000000000',
      data => user_data('ghost') },
    { method => 'DELETE', path => '/Users/00000000-0000-4000-8000-000000000000' },
    { method => 'PATCH', path => "/Users/$carl->{id}",
      data => patch_body({ op => 'jump', path => 'displayName', value => 'x' }) },
    { method => 'PUT', path => "/Users/$bob->{id}", version => $bob->{meta}{version},
      data => user_data('bob', displayName => 'Bob Stale') },
    { method => 'DELETE', path => "/Users/$carl->{id}", version => 'W/"1"' },
    { method => 'POST', path => '/Users', bulkId => 'ok1', data => user_data('frank') },
]);
$ops = bulk_ok($r, 8, 'failing operations: every one reported (no failOnErrors)');
op_is($ops->[0], status => '409', scimType => 'uniqueness', name => 'duplicate userName -> "409" uniqueness');
op_is($ops->[1], status => '400', name => 'POST without userName -> "400"');
op_is($ops->[2], status => '404', name => 'PUT of an unknown id -> "404"');
op_is($ops->[3], status => '404', name => 'DELETE of an unknown id -> "404"');
op_is($ops->[4], status => '400', name => 'PATCH with an unknown op -> "400"');
op_is($ops->[5], status => '412', name => 'PUT with a stale version -> "412" (RFC 3.7.3)');
op_is($ops->[6], status => '412', name => 'DELETE with a stale version -> "412"');
op_is($ops->[7], status => '201', name => 'the good operation after the errors -> "201"');
is($t->get("Users/$bob->{id}")->{json}{displayName}, 'Bob Put', 'the stale PUT changed nothing');
is($t->get("Users/$carl->{id}")->{status}, 200, 'the stale DELETE deleted nothing');
is(($ops->[0]{bulkId} // ''), 'dup', 'a failed POST keeps its bulkId');
ok(!exists $ops->[1]{location} || !defined $ops->[1]{location}, 'a failed POST has no location');

# unresolvable references
$r = bulk([
    { method => 'POST', path => '/Groups', bulkId => 'lost',
      data => { schemas => [URN_GROUP], displayName => 'Lost',
                members => [{ value => 'bulkId:nosuch' }] } },
    { method => 'PATCH', path => '/Users/bulkId:nosuch2',
      data => patch_body({ op => 'replace', path => 'displayName', value => 'x' }) },
    { method => 'POST', path => '/Users', bulkId => 'broken', data => { schemas => [URN_USER] } },
    { method => 'POST', path => '/Groups', bulkId => 'dep',
      data => { schemas => [URN_GROUP], displayName => 'Depends',
                members => [{ value => 'bulkId:broken' }] } },
    { method => 'POST', path => '/Users', bulkId => 'fine', data => user_data('grace') },
]);
$ops = bulk_ok($r, 5, 'unresolvable references: 5 results');
op_is($ops->[0], status => '409', name => 'a member "bulkId:nosuch" no operation defines -> "409"');
op_is($ops->[1], status => '409', name => 'a path "bulkId:nosuch2" no operation defines -> "409"');
op_is($ops->[2], status => '400', name => 'the POST that fails -> "400"');
op_is($ops->[3], status => '409', name => 'a reference to the failed POST -> "409"');
op_is($ops->[4], status => '201', name => 'the independent one -> "201"');
is_list_response($t->get('Groups?' . qs(filter => 'displayName eq "Lost" or displayName eq "Depends"')),
                 0, 0, 'no group created by the failed operations');

# ------------------------------------------------------- failOnErrors

$r = bulk([
    { method => 'POST', path => '/Users', bulkId => 'f1', data => user_data('bob') },
    { method => 'POST', path => '/Users', bulkId => 'f2', data => user_data('fail.one.after') },
    { method => 'POST', path => '/Users', bulkId => 'f3', data => user_data('fail.two.after') },
], failOnErrors => 1);
$ops = bulk_ok($r, 1, 'failOnErrors 1: stops after the first error (1 result)');
op_is($ops->[0], status => '409', name => '... which is the error');
is_list_response($t->list(filter => 'userName sw "fail."'), 0, 0,
                 'failOnErrors 1: the later operations did not run');

$r = bulk([
    { method => 'POST', path => '/Users', bulkId => 'h1', data => user_data('bob') },
    { method => 'POST', path => '/Users', bulkId => 'h2', data => user_data('heidi') },
    { method => 'DELETE', path => '/Users/00000000-0000-4000-8000-000000000001' },
    { method => 'POST', path => '/Users', bulkId => 'h4', data => user_data('ivan') },
], failOnErrors => 2);
$ops = bulk_ok($r, 3, 'failOnErrors 2: stops after the second error (3 results)');
is(join(',', map { $_->{status} // '' } @$ops), '409,201,404', '... statuses 409, 201, 404');
is_list_response($t->list(filter => 'userName eq "heidi"'), 1, 1, '... heidi created');
is_list_response($t->list(filter => 'userName eq "ivan"'), 0, 0, '... ivan not');

$r = bulk([
    { method => 'POST', path => '/Users', bulkId => 'k1', data => user_data('bob') },
    { method => 'POST', path => '/Users', bulkId => 'k2', data => user_data('judy') },
], failOnErrors => 5);
bulk_ok($r, 2, 'failOnErrors 5 with one error: everything runs');

is_scim_error(bulk([{ method => 'DELETE', path => "/Users/$carl->{id}" }], failOnErrors => 'x'),
              400, undef, 'failOnErrors not an integer -> 400');

# -------------------------------------------------- limits: 413 and SPC

my $spc = $t->get('ServiceProviderConfig')->{json} // {};
is($spc->{bulk}{maxOperations}, 1000, 'SPC: bulk.maxOperations 1000 by default');
is($spc->{bulk}{maxPayloadSize}, 1048576, 'SPC: bulk.maxPayloadSize = client_max_body_size (1m default)');
ok(is_jtrue($spc->{bulk}{supported}), 'SPC: bulk.supported true');

my $five = $t->get('/five/scim/v2/ServiceProviderConfig')->{json} // {};
is($five->{bulk}{maxOperations}, 5, 'SPC: bulk.maxOperations = scim_bulk_max_operations 5');
my @six = map { { method => 'POST', path => '/Users', bulkId => "s$_", data => user_data("six$_") } } 1 .. 6;
$r = bulk(\@six, path => '/five/scim/v2/Bulk');
is_scim_error($r, 413, undef, '6 operations over maxOperations 5 -> 413 SCIM error');
like($r->{json}{detail} // '', qr/5/, '... the detail names the limit');
is_list_response($t->get('/five/scim/v2/Users?count=0'), 0, 0, '... nothing was done');
$r = bulk([ @six[0 .. 4] ], path => '/five/scim/v2/Bulk');
$ops = bulk_ok($r, 5, 'exactly 5 operations -> 200');
is(scalar(grep { ($_->{status} // '') eq '201' } @$ops), 5, '... all created');

my @many = map { { method => 'DELETE', path => "/Users/00000000-0000-4000-8000-$_" } }
           map { sprintf('%012d', $_) } 1 .. 1001;
$r = bulk(\@many);
is_scim_error($r, 413, undef, '1001 operations over the default maxOperations 1000 -> 413');

my $small = $t->get('/small/scim/v2/ServiceProviderConfig')->{json} // {};
is($small->{bulk}{maxPayloadSize}, 4096, 'SPC: maxPayloadSize = client_max_body_size 4k');
my @big = map { { method => 'POST', path => '/Users', bulkId => "b$_",
                  data => user_data("big$_", displayName => 'x' x 300) } } 1 .. 20;
$r = bulk(\@big, path => '/small/scim/v2/Bulk');
is_scim_error($r, 413, undef, 'a BulkRequest over maxPayloadSize -> 413 SCIM error');
ok(length(json_encode({ Operations => \@big })) > 4096, '... (the body was over 4096 bytes)');
is_list_response($t->get('/small/scim/v2/Users?count=0'), 0, 0, '... nothing was done');
$r = bulk([ @big[0 .. 2] ], path => '/small/scim/v2/Bulk');
bulk_ok($r, 3, 'a BulkRequest under maxPayloadSize -> 200');
$r = bulk(\@big, path => '/small/scim/v2/Bulk', chunked => 1);
is_scim_error($r, 413, undef, 'over maxPayloadSize, chunked -> 413 SCIM error');

# a bigger job
my @jobs = map { { method => 'POST', path => '/Users', bulkId => "j$_", data => user_data("job$_") } } 1 .. 200;
$r = bulk(\@jobs, timeout => 60);
$ops = bulk_ok($r, 200, '200 POSTs in one request');
is(scalar(grep { ($_->{status} // '') eq '201' } @$ops), 200, '... all "201"');
my %locs = map { ($_->{location} // '') => 1 } @$ops;
is(scalar(keys %locs), 200, '... 200 distinct locations');
is_deeply([ map { $_->{bulkId} } @$ops ], [ map { "j$_" } 1 .. 200 ], '... in request order');

# ------------------------------------------------------ bad requests

is_scim_error($t->post('Bulk', { schemas => [URN_BULK_REQ] }), 400, 'invalidSyntax',
              'no Operations -> 400 invalidSyntax');
is_scim_error($t->post('Bulk', { schemas => [URN_BULK_REQ], Operations => {} }), 400, 'invalidSyntax',
              'Operations not an array -> 400 invalidSyntax');
is_scim_error($t->request('POST', 'Bulk', body => '{"schemas":['), 400, 'invalidSyntax',
              'body not JSON -> 400 invalidSyntax');
is_scim_error($t->post('Bulk', { schemas => [URN_PATCH],
                                 Operations => [{ method => 'POST', path => '/Users', bulkId => 'w',
                                                  data => user_data('wrong.schema') }] }),
              400, 'invalidSyntax', 'schemas is not BulkRequest (RFC 7644 3.7: REQUIRED) -> 400 invalidSyntax');
is_list_response($t->list(filter => 'userName eq "wrong.schema"'), 0, 0,
                 '... and nothing was created');
$r = bulk([]);
$ops = bulk_ok($r, 0, 'empty Operations -> 200 with no results');

$r = bulk([
    { method => 'GET', path => "/Users/$carl->{id}" },
    { method => 'POST', bulkId => 'nopath', data => user_data('nopath') },
    { method => 'POST', path => '/Users', bulkId => 'nodata' },
    { method => 'POST', path => "/Users/$carl->{id}", bulkId => 'postid', data => user_data('postid') },
    { method => 'PUT', path => '/Users', data => user_data('putnoid') },
    { method => 'POST', path => '/Schemas', bulkId => 'sch', data => { x => 1 } },
    'not an object',
    { method => 'POST', path => '/Users', data => user_data('no.bulkid') },
]);
$ops = bulk_ok($r, 8, 'malformed operations: each reported');
op_is($ops->[0], status => '400', name => 'method GET -> "400"')
    unless ($ops->[0]{status} // '') eq '405';
ok(1, 'method GET -> "405"') if ($ops->[0]{status} // '') eq '405';
op_is($ops->[1], status => '400', name => 'no path -> "400"');
op_is($ops->[2], status => '400', name => 'POST without data -> "400"');
op_is($ops->[3], status => '400', name => 'POST to a resource path -> "400"')
    unless ($ops->[3]{status} // '') =~ /^40[45]$/;
op_is($ops->[4], status => '400', name => 'PUT without an id -> "400"')
    unless ($ops->[4]{status} // '') =~ /^40[45]$/;
ok(($ops->[5]{status} // '') =~ /^40[045]$/, 'POST to /Schemas -> "400"/"404"/"405"')
    or diag json_encode($ops->[5]);
op_is($ops->[6], status => '400', name => 'an operation that is not an object -> "400"');
op_is($ops->[7], status => '400', scimType => 'invalidSyntax',
      name => 'POST without bulkId (RFC 7644 3.7: REQUIRED with POST) -> "400" invalidSyntax');

is_scim_error($t->get('Bulk'), 405, undef, 'GET /Bulk -> 405');
is_scim_error($t->put('Bulk', { schemas => [URN_BULK_REQ], Operations => [] }), 405, undef, 'PUT /Bulk -> 405');
is_scim_error($t->del('Bulk'), 405, undef, 'DELETE /Bulk -> 405');
is_scim_error(bulk([{ method => 'DELETE', path => "/Users/$carl->{id}" }], token => 'nope'),
              401, undef, 'POST /Bulk with a wrong token -> 401');
is($t->get("Users/$carl->{id}")->{status}, 200, '... and nothing was deleted');

$t->finish;
