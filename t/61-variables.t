#!/usr/bin/perl

# $scim_tenant, $scim_resource, $scim_id, $scim_op in an access log, and
# no bearer token in any log line.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use ScimTest;

my $t = ScimTest->new(workers => 1);

my $dir = $t->dir;
$t->write_config($t->standard_conf(
    tenant     => 'acme-$host',
    http_extra => qq(log_format scim '\$request_method \$status )
                . qq(t=\$scim_tenant r=\$scim_resource id=\$scim_id )
                . qq(op=\$scim_op';),
    server_extra => "    access_log $dir/scim.log scim;\n"
                  . "    location = /plain { return 200 'x'; }\n",
));
$t->start_nginx or BAIL_OUT('nginx did not start');

my $r = $t->post('Users', { schemas => [URN_USER], userName => 'vars1' });
is($r->{status}, 201, 'created');
my $id = $r->{json}{id} // 'none';

$t->get("Users/$id");
$t->list(filter => 'userName eq "vars1"');
$t->patch_ops($id, { op => 'replace', path => 'displayName', value => 'V' });
$t->get('Schemas');
$t->post('Users/.search', { schemas =>
    ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'] });
$t->del("Users/$id");
$t->request('GET', '/plain');
$t->get('Users', token => 'wrong-token-0000000000000000');
is($t->post('Users', { schemas => [URN_USER], userName => 'vars2' })->{status},
   201, 'vars2 created');
is($t->post('Users', { schemas => [URN_USER], userName => 'vars2' })->{status},
   409, 'a second vars2: 409');

# the log is written when each request ends; give the last one a moment
my @lines;
for (1 .. 50) {
    @lines = split /\n/, ($t->read_file('scim.log') // '');
    last if @lines >= 12;
    select undef, undef, undef, 0.1;
}

my $host = "127.0.0.1";
like($lines[0] // '', qr{^POST 201 t=acme-$host r=Users id=[0-9a-f-]{36} op=create$},
     'POST: tenant, resource, new id, create');
like($lines[1] // '', qr{^GET 200 t=acme-$host r=Users id=\Q$id\E op=read$},
     'GET by id: read');
like($lines[2] // '', qr{^GET 200 t=acme-$host r=Users id=- op=list$},
     'filter: list, no id');
like($lines[3] // '', qr{^PATCH 200 .* id=\Q$id\E op=patch$}, 'PATCH: patch');
like($lines[4] // '', qr{^GET 200 .* r=Schemas id=- op=discovery$},
     'discovery');
like($lines[5] // '', qr{^POST 200 .* r=Users id=- op=search$}, '.search');
like($lines[6] // '', qr{^DELETE 204 .* op=delete$}, 'DELETE: delete');
like($lines[7] // '', qr{^GET 200 t=- r=- id=- op=-$},
     'outside a scim location: empty');
like($lines[8] // '', qr{^GET 401 }, 'a refused request is logged too');
like($lines[9] // '', qr{^POST 201 t=acme-$host r=Users id=[0-9a-f-]{36} op=create$},
     'a create: its id');
like($lines[10] // '', qr{^POST 409 t=acme-$host r=Users id=- op=create$},
     'a create that stored nothing (409): no id');

my $all = join "\n", $t->read_file('scim.log') // '',
                     $t->read_file('access.log') // '', $t->error_log;
unlike($all, qr/\Q${\ $t->token }\E/, 'the token is in no log');
unlike($all, qr/wrong-token/, 'nor a wrong token');

$t->finish;
