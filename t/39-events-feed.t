#!/usr/bin/perl

# The RFC 9967 feed (issue 11): a "scim_events;" location answers RFC 8936
# polls with the tenant's change events as SETs (unsecured JWTs, typ
# secevent+jwt): maxEvents, moreAvailable, re-delivery of what was not
# acknowledged, "ack" and "setErrs"; authenticated and given its tenant
# as a scim location is (no token, a token of another tenant: 401; each
# tenant's feed holds its own events); only POST; a bad poll is a SCIM
# error; /ServiceProviderConfig advertises securityEvents (RFC 9967 4),
# not where scim_events_maxlen is off.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MIME::Base64 qw(decode_base64url);
use ScimTest;

my $t = ScimTest->new(workers => 2);

my $tok_a = 'alpha-token-0123456789abcdef';
my $tok_b = 'beta-token-0123456789abcdefgh';

$t->write_file('bound.tokens', "alpha $tok_a\nbeta $tok_b\n");

$t->write_config(<<'EOF');
server {
    listen 127.0.0.1:%%PORT%%;
    server_name localhost;

    location ~ ^/c/(?<customer>[a-z0-9]+)/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant $customer;
        scim_bearer_token_file %%DIR%%/bound.tokens;
    }

    location ~ ^/c/(?<customer>[a-z0-9]+)/events$ {
        scim_events;
        scim_redis %%REDIS%%;
        scim_tenant $customer;
        scim_bearer_token_file %%DIR%%/bound.tokens;
    }

    location ~ ^/quiet/(?<customer>[a-z0-9]+)/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant $customer;
        scim_bearer_token_file %%DIR%%/bound.tokens;
        scim_events_maxlen off;
    }
}
EOF
$t->start_nginx_ok;

my $A = '/c/alpha/scim/v2/';
my $P = 'urn:ietf:params:scim:event:prov:';

sub poll {
    my ($body, %o) = @_;
    return $t->post($o{feed} // '/c/alpha/events', $body,
                    token => exists $o{token} ? $o{token} : $tok_a);
}

# a SET's (header, claims, signature)
sub set_parts {
    my ($jwt) = @_;
    my @p = split /\./, $jwt, -1;
    return (undef) unless @p == 3;
    return (json_decode(decode_base64url($p[0])),
            json_decode(decode_base64url($p[1])), $p[2]);
}

# ---------------------------------------------------- discovery

my $spc = $t->get("${A}ServiceProviderConfig", token => $tok_a)->{json};
is($spc->{securityEvents}{asyncRequest}, 'none',
   '/ServiceProviderConfig: securityEvents, no asynchronous requests');
is_deeply([sort @{ $spc->{securityEvents}{eventUris} // [] }],
          [sort map { "$P$_" } qw(create:notice put:notice patch:notice
                                  delete activate deactivate)],
          '... and the event URIs of its SETs');
$spc = $t->get('/quiet/alpha/scim/v2/ServiceProviderConfig',
               token => $tok_a)->{json};
ok($spc && !exists $spc->{securityEvents},
   'scim_events_maxlen off: no securityEvents');

# ---------------------------------------------------------- polls

my $r = poll({ maxEvents => 10, returnImmediately => jtrue });
is($r->{status}, 200, 'a poll of an empty feed: 200');
is_deeply($r->{json}, { sets => {}, moreAvailable => jfalse },
          '... no SETs, nothing more');

my @u;
for my $i (1 .. 3) {
    my $c = $t->post("${A}Users", entra_user(userName => "u$i\@a.example"),
                     token => $tok_a);
    is($c->{status}, 201, "alpha: user $i");
    push @u, $c->{json}{id};
}
is($t->patch("${A}Users/$u[0]",
             patch_body({ op => 'replace', path => 'active',
                          value => jfalse }), token => $tok_a)->{status},
   200, 'alpha: a user deactivated');
is($t->del("${A}Users/$u[1]", token => $tok_a)->{status}, 204,
   'alpha: a user deleted');
$t->post('/c/beta/scim/v2/Users', entra_user(userName => 'b@b.example'),
         token => $tok_b);

$r = poll({ maxEvents => 2, returnImmediately => jtrue });
is($r->{status}, 200, 'maxEvents 2: 200');
my @jti = sort keys %{ $r->{json}{sets} // {} };
is(scalar @jti, 2, '... two SETs');
ok(is_jtrue($r->{json}{moreAvailable}), '... moreAvailable');

my ($h, $c, $sig) = set_parts($r->{json}{sets}{ $jti[0] });
is_deeply($h, { typ => 'secevent+jwt', alg => 'none' },
          'a SET: an unsecured JWT, typ secevent+jwt');
is($sig, '', '... with an empty signature');
is($c->{jti}, $jti[0], '... its jti is its key in "sets"');
is($c->{iss}, 'http://127.0.0.1:' . $t->port . '/c/alpha/events',
   '... iss: the feed');
is($c->{aud}, 'alpha', '... aud: the tenant');
is($c->{sub_id}{format}, 'scim', '... sub_id of format scim');
is($c->{sub_id}{uri}, "/Users/$u[0]", '... the first user');
my $ev = $c->{events}{"${P}create:notice"};
ok($ev && grep({ $_ eq 'userName' } @{ $ev->{attributes} }),
   '... a create:notice naming its attributes') or diag explain $c;
like($ev->{version} // '', qr/^W\/"\d+"$/, '... and its version (ETag)');
ok(abs($c->{iat} - time) < 300, '... iat: about now');

my $again = poll({ maxEvents => 2 });
is_deeply([sort keys %{ $again->{json}{sets} // {} }], \@jti,
          'not acknowledged: the same two SETs again');
is($again->{json}{sets}{ $jti[0] }, $r->{json}{sets}{ $jti[0] },
   '... the very same JWT');

# acknowledge as we go, until nothing more
my (%seen, @order);
my $ack = [@jti];
for my $round (1 .. 10) {
    $r = poll({ maxEvents => 2, ack => $ack });
    is($r->{status}, 200, "poll $round with the acks of the last: 200");
    my $sets = $r->{json}{sets} // {};
    ok(!grep({ $seen{$_} } keys %$sets), '... nothing acknowledged again');
    $seen{$_} = 1 for keys %$sets;
    push @order, map { [set_parts($sets->{$_})]->[1] } sort keys %$sets;
    $ack = [keys %$sets];
    last unless is_jtrue($r->{json}{moreAvailable});
}
is(scalar(keys %seen), 3, 'the other SETs of alpha: 3 (5 writes in all)');
my %types = map { %{ $_->{events} } } @order;
ok(exists $types{"${P}deactivate"} && exists $types{"${P}patch:notice"},
   'the PATCH: patch:notice and deactivate in one SET');
ok(exists $types{"${P}delete"}, 'the DELETE: prov:delete');
$r = poll({ ack => $ack });
is_deeply($r->{json}, { sets => {}, moreAvailable => jfalse },
          'all acknowledged: nothing left');

# setErrs: the receiver could not take it; not sent again
$t->patch("${A}Users/$u[2]", patch_body({ op => 'replace', path => 'title',
                                          value => 'x' }), token => $tok_a);
$r = poll({});
my ($j) = keys %{ $r->{json}{sets} // {} };
ok(defined $j, 'a new write: one SET');
$r = poll({ setErrs => { $j => { err => 'invalid_request',
                                 description => 'cannot' } } });
is_deeply($r->{json}{sets}, {}, 'reported in setErrs: not sent again');

# ------------------------------------------------ auth and tenants

$r = poll({}, token => undef);
is_scim_error($r, 401, undef, 'no token: 401');
$r = poll({}, token => $tok_b);
is_scim_error($r, 401, undef, "beta's token on alpha's feed: 401");
$r = poll({ maxEvents => 10 }, token => $tok_b, feed => '/c/beta/events');
is($r->{status}, 200, "beta's feed with beta's token: 200");
my @b = values %{ $r->{json}{sets} // {} };
is(scalar @b, 1, "... beta's one event only");
is([set_parts($b[0])]->[1]{aud}, 'beta', '... for beta');

# ------------------------------------------------------ bad polls

is_scim_error($t->get('/c/alpha/events', token => $tok_a), 405, undef,
              'GET: 405');
is_scim_error(poll({ maxEvents => 'x' }), 400, 'invalidValue',
              'maxEvents not a number: 400');
is_scim_error(poll({ maxEvents => -1 }), 400, 'invalidValue',
              'maxEvents negative: 400');
is_scim_error(poll({ ack => 'x' }), 400, 'invalidValue', 'ack not an array: 400');
is_scim_error(poll({ ack => [1] }), 400, 'invalidValue',
              'ack of a number: 400');
is_scim_error(poll({ returnImmediately => 'yes' }), 400, 'invalidValue',
              'returnImmediately not a boolean: 400');
$r = $t->request('POST', '/c/alpha/events', body => 'not json',
                 token => $tok_a);
is_scim_error($r, 400, undef, 'not JSON: 400');
$r = poll({ maxEvents => 100000 });
is($r->{status}, 200, 'a huge maxEvents: capped, 200');

$t->finish;
