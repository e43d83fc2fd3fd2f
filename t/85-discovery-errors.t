#!/usr/bin/perl

# Discovery (issue 4; RFC 7644 4, RFC 7643 5-7) generated from the
# schemas a location loads: /ServiceProviderConfig (supported flags,
# filter.maxResults = scim_max_results, bulk limits, oauthbearertoken),
# /ResourceTypes and /ResourceTypes/{name} (User lists the enterprise
# extension and every scim_schema_extension), /Schemas and
# /Schemas/{urn} (core User, Group, enterprise User, each extension;
# 404 for others); readable with the tenant's token only (401 without).
# Errors: unknown routes -> 404, wrong methods -> 405 (with a truthful
# Allow header), both as SCIM errors; application/json accepted like
# application/scim+json; /Me -> 501 SCIM error; a body over
# client_max_body_size -> 413 SCIM error; never an HTML page.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use ScimTest;

my $t = ScimTest->new(workers => 2);
my $port = $t->port;
my $BASE = "http://127.0.0.1:$port/scim/v2";
my $PBASE = "http://127.0.0.1:$port/plain/scim/v2";

use constant {
    URN_SPC    => 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
    URN_RT     => 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
    URN_SCHEMA => 'urn:ietf:params:scim:schemas:core:2.0:Schema',
    URN_X2     => 'urn:example:params:scim:schemas:extension:second:2.0:User',
};

$t->write_file('second.json', ext_schema(URN_X2, 'SecondUser', 'badge', 'floor'));

$t->write_config($t->standard_conf(
    extra => <<'EOF',
        scim_schema_extension %%REPO%%/conf-examples/global-relay/globalrelay-extension.json;
        scim_schema_extension %%DIR%%/second.json;
        scim_max_results 77;
        scim_bulk_max_operations 42;
        client_max_body_size 64k;
EOF
    server_extra => <<'EOF'));
    location /plain/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant plain;
        scim_bearer_token_file %%TOKEN_FILE%%;
    }
EOF
$t->start_nginx_ok;

my $gr_file = json_decode($t->read_file($t->repo . '/conf-examples/global-relay/globalrelay-extension.json')) // {};

sub has_schema { my ($j, $urn) = @_; grep { $_ eq $urn } @{ $j->{schemas} // [] } }

# ------------------------------------------------ ServiceProviderConfig

my $r = $t->get('ServiceProviderConfig');
is_scim_json($r, 200, 'GET /ServiceProviderConfig');
my $spc = $r->{json} // {};
ok(has_schema($spc, URN_SPC), 'schemas: ServiceProviderConfig');
for my $f (qw(patch bulk filter changePassword sort etag)) {
    ok(is_jbool(($spc->{$f} // {})->{supported}), "$f.supported is a JSON boolean");
}
ok(is_jtrue($spc->{patch}{supported}), 'patch.supported true');
ok(is_jtrue($spc->{bulk}{supported}), 'bulk.supported true');
is($spc->{bulk}{maxOperations}, 42, 'bulk.maxOperations = scim_bulk_max_operations 42');
is($spc->{bulk}{maxPayloadSize}, 65536, 'bulk.maxPayloadSize = client_max_body_size 64k');
ok(is_jtrue($spc->{filter}{supported}), 'filter.supported true');
is($spc->{filter}{maxResults}, 77, 'filter.maxResults = scim_max_results 77');
ok(is_jtrue($spc->{sort}{supported}), 'sort.supported true');
ok(is_jtrue($spc->{etag}{supported}), 'etag.supported true');
my @auth = @{ $spc->{authenticationSchemes} // [] };
my ($bearer) = grep { ($_->{type} // '') eq 'oauthbearertoken' } @auth;
ok($bearer, 'authenticationSchemes holds type oauthbearertoken') or diag explain \@auth;
ok(defined(($bearer // {})->{name}) && defined(($bearer // {})->{description}),
   '... with name and description (RFC 7643 5: REQUIRED)');
is(($spc->{meta} // {})->{resourceType}, 'ServiceProviderConfig', 'meta.resourceType');
is(($spc->{meta} // {})->{location}, "$BASE/ServiceProviderConfig", 'meta.location');

my $pspc = $t->get('/plain/scim/v2/ServiceProviderConfig')->{json} // {};
is($pspc->{filter}{maxResults}, 200, 'another location: filter.maxResults default 200');
is($pspc->{bulk}{maxOperations}, 1000, 'another location: bulk.maxOperations default 1000');
is($pspc->{bulk}{maxPayloadSize}, 1048576, 'another location: maxPayloadSize 1m (nginx default)');

is_scim_error($t->get('ServiceProviderConfig', token => undef), 401, undef,
              'GET /ServiceProviderConfig without a token -> 401');
is_scim_error($t->get('ServiceProviderConfig', token => 'wrong-token'), 401, undef,
              '... with a wrong token -> 401');
like($t->get('ServiceProviderConfig', token => undef)->{headers}{'www-authenticate'} // '',
     qr/^Bearer/i, '401 carries WWW-Authenticate: Bearer');

# ----------------------------------------------------- ResourceTypes

$r = $t->get('ResourceTypes');
is_list_response($r, 2, 2, 'GET /ResourceTypes: a ListResponse of 2');
my %rt = map { ($_->{id} // $_->{name} // '?') => $_ } @{ $r->{json}{Resources} // [] };
my $urt = $rt{User} // {};
my $grt = $rt{Group} // {};
ok(has_schema($urt, URN_RT), 'User: schemas ResourceType');
is($urt->{name}, 'User', 'User: name');
is($urt->{endpoint}, '/Users', 'User: endpoint /Users');
is($urt->{schema}, URN_USER, 'User: schema core User');
is_deeply([ map { $_->{schema} } @{ $urt->{schemaExtensions} // [] } ],
          [URN_ENT, URN_GR, URN_X2],
          'User: schemaExtensions = enterprise + both scim_schema_extension files');
ok(!grep({ !is_jfalse($_->{required}) } @{ $urt->{schemaExtensions} // [] }),
   'User: every extension required false');
is(($urt->{meta} // {})->{location}, "$BASE/ResourceTypes/User", 'User: meta.location');
is(($urt->{meta} // {})->{resourceType}, 'ResourceType', 'User: meta.resourceType');
is($grt->{endpoint}, '/Groups', 'Group: endpoint /Groups');
is($grt->{schema}, URN_GROUP, 'Group: schema core Group');
ok(!@{ $grt->{schemaExtensions} // [] }, 'Group: no schema extensions');

$r = $t->get('ResourceTypes/User');
is_scim_json($r, 200, 'GET /ResourceTypes/User');
is_deeply($r->{json}, $urt, '... the same as in the list');
$r = $t->get('ResourceTypes/Group');
is_scim_json($r, 200, 'GET /ResourceTypes/Group');
is($r->{json}{endpoint}, '/Groups', '... endpoint /Groups');
is_scim_error($t->get('ResourceTypes/Printer'), 404, undef, 'GET /ResourceTypes/Printer -> 404');

$r = $t->get('/plain/scim/v2/ResourceTypes/User');
is_deeply([ map { $_->{schema} } @{ $r->{json}{schemaExtensions} // [] } ], [URN_ENT],
          'a location without scim_schema_extension: only the enterprise extension');
is(($r->{json}{meta} // {})->{location}, "$PBASE/ResourceTypes/User", '... its own meta.location');

is_scim_error($t->get('ResourceTypes', token => undef), 401, undef, 'GET /ResourceTypes without a token -> 401');

# ------------------------------------------------------------ Schemas

$r = $t->get('Schemas');
is_list_response($r, 5, 5, 'GET /Schemas: core User, Group, enterprise, 2 extensions');
my %sc = map { ($_->{id} // '?') => $_ } @{ $r->{json}{Resources} // [] };
is_deeply([ sort keys %sc ], [ sort { $a cmp $b } (URN_USER, URN_GROUP, URN_ENT, URN_GR, URN_X2) ], '... exactly those');
for my $urn (sort keys %sc) {
    my $s = $sc{$urn};
    ok(has_schema($s, URN_SCHEMA) && defined $s->{name} && ref $s->{attributes} eq 'ARRAY'
       && @{ $s->{attributes} }, "$urn: schemas Schema, name, attributes");
    is(($s->{meta} // {})->{location}, "$BASE/Schemas/$urn", "$urn: meta.location");
    is(($s->{meta} // {})->{resourceType}, 'Schema', "$urn: meta.resourceType Schema");
    my $one = $t->get("Schemas/$urn");
    is_scim_json($one, 200, "GET /Schemas/$urn");
    is_deeply($one->{json}, $s, "... the same as in the list");
}
my %ua = map { $_->{name} => $_ } @{ ($sc{+URN_USER} // {})->{attributes} // [] };
ok(is_jtrue($ua{userName}{required}) && ($ua{userName}{uniqueness} // '') eq 'server'
   && is_jfalse($ua{userName}{caseExact}), 'User schema: userName required, unique (server), caseExact false');
is(($ua{password} // {})->{returned}, 'never', 'User schema: password returned never');
is(($ua{password} // {})->{mutability}, 'writeOnly', 'User schema: password writeOnly');
ok(is_jtrue(($ua{emails} // {})->{multiValued}) && ($ua{emails}{type} // '') eq 'complex'
   && grep({ ($_->{name} // '') eq 'primary' } @{ $ua{emails}{subAttributes} // [] }),
   'User schema: emails multi-valued complex with primary');
is(($ua{groups} // {})->{mutability}, 'readOnly', 'User schema: groups readOnly');
my %ga = map { $_->{name} => $_ } @{ ($sc{+URN_GROUP} // {})->{attributes} // [] };
ok(exists $ga{displayName} && exists $ga{members}, 'Group schema: displayName, members');
my %ea = map { $_->{name} => $_ } @{ ($sc{+URN_ENT} // {})->{attributes} // [] };
ok(exists $ea{$_}, "enterprise schema: $_") for qw(employeeNumber costCenter organization division department manager);
is_deeply([ map { $_->{name} } @{ ($sc{+URN_GR} // {})->{attributes} // [] } ],
          [ map { $_->{name} } @{ $gr_file->{attributes} // [] } ],
          'GlobalRelay schema: the attributes of globalrelay-extension.json, in order');
is(($sc{+URN_GR} // {})->{description}, $gr_file->{description}, 'GlobalRelay schema: its description');
is_deeply([ map { $_->{name} } @{ ($sc{+URN_X2} // {})->{attributes} // [] } ], ['badge', 'floor'],
          'second extension: its attributes');

is_scim_error($t->get('Schemas/urn:ietf:params:scim:schemas:core:2.0:Printer'), 404, undef,
              'GET /Schemas/<unknown urn> -> 404');
is_scim_error($t->get('Schemas/nonsense'), 404, undef, 'GET /Schemas/nonsense -> 404');
is_scim_error($t->get('/plain/scim/v2/Schemas/' . URN_GR), 404, undef,
              'a location without the extension: its schema -> 404');
is_list_response($t->get('/plain/scim/v2/Schemas'), 3, 3, 'a location without extensions: 3 schemas');
is_scim_error($t->get('Schemas', token => undef), 401, undef, 'GET /Schemas without a token -> 401');
is_scim_error($t->get('Schemas/' . URN_USER, token => 'bad'), 401, undef,
              'GET /Schemas/{urn} with a bad token -> 401');

# RFC 7644 4: a filter on discovery endpoints SHOULD be answered 403
$r = $t->get('Schemas?' . qs(filter => 'id eq "' . URN_USER . '"'));
is_scim_error($r, 403, undef, 'GET /Schemas?filter=... -> 403 (RFC 7644 4: SHOULD)');

# --------------------------------------------------------------- 404

for my $p ('Printers', 'Userz', 'Users/abc/def', 'Groups/abc/members', 'ServiceProviderConfig/x',
           '/scim/v2/', 'Bulk/1', 'v2/Users/x/y', '.search/x')
{
    $r = $t->get($p);
    is_scim_error($r, 404, undef, "GET $p -> 404 SCIM error");
    ok(no_html($r), "... no HTML ($p)");
}
$r = $t->post('Printers', { x => 1 });
is_scim_error($r, 404, undef, 'POST /Printers -> 404 SCIM error');
is_scim_error($t->get('Users/00000000-0000-4000-8000-000000000000'), 404, undef, 'unknown user id -> 404');
is_scim_error($t->get('Groups/00000000-0000-4000-8000-000000000000'), 404, undef, 'unknown group id -> 404');
is_scim_error($t->del('Users/00000000-0000-4000-8000-000000000000'), 404, undef, 'DELETE unknown user -> 404');
is_scim_error($t->patch('Groups/00000000-0000-4000-8000-000000000000',
                        patch_body({ op => 'replace', path => 'displayName', value => 'x' })),
              404, undef, 'PATCH unknown group -> 404');

# --------------------------------------------------------------- 405

my $uid = $t->post('Users', { schemas => [URN_USER], userName => 'someone' })->{json}{id} // 'none';
for my $c (['DELETE', 'Users', 'DELETE'], ['PUT', 'Users', 'PUT'], ['PATCH', 'Users', 'PATCH'],
           ['DELETE', 'Groups', 'DELETE'], ['PATCH', 'Groups', 'PATCH'],
           ['POST', "Users/$uid", 'POST'],
           ['POST', 'Schemas', 'POST'], ['PUT', 'Schemas/' . URN_USER, 'PUT'],
           ['DELETE', 'Schemas/' . URN_USER, 'DELETE'],
           ['POST', 'ResourceTypes', 'POST'], ['DELETE', 'ResourceTypes/User', 'DELETE'],
           ['PUT', 'ServiceProviderConfig', 'PUT'], ['POST', 'ServiceProviderConfig', 'POST'],
           ['PATCH', 'ServiceProviderConfig', 'PATCH'],
           ['GET', 'Bulk', 'GET'], ['DELETE', 'Bulk', 'DELETE'], ['PUT', 'Bulk', 'PUT'],
           ['GET', 'Users/.search', 'GET'], ['GET', '.search', 'GET'])
{
    my ($m, $p, $what) = @$c;
    $r = $t->request($m, $p, $m =~ /^(?:POST|PUT|PATCH)$/ ? (body => { schemas => [URN_USER] }) : ());
    is_scim_error($r, 405, undef, "$m /$p -> 405 SCIM error");
    my $allow = $r->{headers}{allow};
    ok(defined $allow && $allow !~ /\b$what\b/,
       "$m /$p: Allow header present and without $what") or diag('Allow: ' . ($allow // 'absent'));
}
like($t->request('DELETE', 'Users')->{headers}{allow} // '', qr/\bGET\b.*\bPOST\b|\bPOST\b.*\bGET\b/,
     'DELETE /Users: Allow lists GET and POST');
like($t->request('GET', 'Bulk')->{headers}{allow} // '', qr/^\s*POST\s*$/, 'GET /Bulk: Allow: POST');
like($t->request('POST', 'Schemas', body => { x => 1 })->{headers}{allow} // '', qr/^\s*GET(?:,\s*HEAD)?\s*$/,
     'POST /Schemas: Allow: GET');
is($t->get("Users/$uid")->{status}, 200, 'the user survived DELETE /Users');
is_scim_error($t->request('POST', 'Schemas'), 405, undef, 'POST /Schemas without a body -> 405 (the method, not the body)');
is_scim_error($t->request('POST', 'ServiceProviderConfig', body => 'not json'), 405, undef,
              'POST /ServiceProviderConfig with a non-JSON body -> 405');

# ---------------------------------------------------- application/json

$r = $t->post('Users', { schemas => [URN_USER], userName => 'json.user' }, ctype => 'application/json');
is_scim_json($r, 201, 'POST /Users with Content-Type: application/json -> 201');
my $jid = $r->{json}{id} // 'none';
ok(scim_ctype_ok($r), '... answered as application/scim+json');
$r = $t->put("Users/$jid", { schemas => [URN_USER], userName => 'json.user', displayName => 'J' },
             ctype => 'application/json; charset=utf-8');
is_scim_json($r, 200, 'PUT with application/json; charset=utf-8 -> 200');
$r = $t->patch("Users/$jid", patch_body({ op => 'replace', path => 'displayName', value => 'JJ' }),
               ctype => 'application/json');
is_scim_json($r, 200, 'PATCH with application/json -> 200');
is($r->{json}{displayName}, 'JJ', '... applied');
$r = $t->post('Groups', { schemas => [URN_GROUP], displayName => 'Json Group' }, ctype => 'application/json');
is_scim_json($r, 201, 'POST /Groups with application/json -> 201');
$r = $t->post('Users', { schemas => [URN_USER], userName => 'scim.user' },
              ctype => 'application/scim+json; charset=utf-8');
is_scim_json($r, 201, 'POST /Users with application/scim+json; charset=utf-8 -> 201');
$r = $t->get("Users/$jid", headers => { Accept => 'application/json' });
is_scim_json($r, 200, 'GET with Accept: application/json -> 200 (scim+json)');

# ---------------------------------------------------------------- /Me

for my $m ('GET', 'POST', 'PUT', 'PATCH', 'DELETE') {
    $r = $t->request($m, 'Me', $m =~ /^(?:POST|PUT|PATCH)$/ ? (body => { schemas => [URN_USER] }) : ());
    is_scim_error($r, 501, undef, "$m /Me -> 501 SCIM error");
}
is_scim_error($t->get('Me/123'), 501, undef, 'GET /Me/123 -> 501');
is_scim_error($t->get('Me', token => undef), 401, undef, 'GET /Me without a token -> 401');

# ------------------------------------------------------ bodies

$r = $t->post('Users', { schemas => [URN_USER], userName => 'big', displayName => 'x' x 70000 });
is_scim_error($r, 413, undef, 'a body over client_max_body_size (64k) -> 413 SCIM error');
ok(no_html($r), '... not nginx\'s HTML page');
$r = $t->post('Users', { schemas => [URN_USER], userName => 'big2', displayName => 'x' x 70000 },
              chunked => 1);
is_scim_error($r, 413, undef, 'the same, chunked -> 413 SCIM error');
$r = $t->request('POST', 'Users', body => '{"schemas": ["' . URN_USER . '"], "userName": ');
is_scim_error($r, 400, 'invalidSyntax', 'truncated JSON -> 400 invalidSyntax');
$r = $t->request('POST', 'Users', body => '{"userName":"a","userName":"b","schemas":["' . URN_USER . '"]}');
is_scim_error($r, 400, 'invalidSyntax', 'duplicate keys -> 400 invalidSyntax');
is($t->get('ServiceProviderConfig')->{status}, 200, 'still serving');

$t->finish;
