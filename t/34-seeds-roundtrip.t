#!/usr/bin/perl

# Every attribute of the Global Relay and New Relic attribute tables
# (../shared/seeds) round-trips unchanged: POST with all of them, GET,
# then PATCH attribute by attribute with Entra's own paths (Replace with a
# new value, Replace with the same value, Add on a bare user, pathless
# ops), checking after each step that every other attribute is unchanged.
# The GlobalRelay extension comes from conf-examples/global-relay/.

use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use ScimTest;

my $t = ScimTest->new(workers => 2);
my $port = $t->port;
my $BASE = "http://127.0.0.1:$port/scim/v2";
my $ENT = URN_ENT;
my $GR = URN_GR;

my $grfile = $t->repo . '/conf-examples/global-relay/globalrelay-extension.json';
ok(-f $grfile, 'conf-examples/global-relay/globalrelay-extension.json exists');
unless (-f $grfile) {
    $grfile = $t->write_file('gr.json', ext_schema($GR, 'GlobalRelayUser',
        'proxyAddresses', map { "extensionAttribute$_" } 1 .. 15));
}
my $grdoc = json_decode($t->read_file($grfile) // '') // {};
is($grdoc->{id}, $GR, 'the schema file is the GlobalRelay User extension');
my %gra = map { ($_->{name} // '') => $_ } @{ $grdoc->{attributes} // [] };
for my $a ('proxyAddresses', map { "extensionAttribute$_" } 1 .. 15) {
    ok($gra{$a} && ($gra{$a}{type} // '') eq 'string' && !$gra{$a}{multiValued},
       "schema declares $a as a single-valued string");
}

$t->write_config($t->standard_conf(tenant => 'globalrelay', location => '/scim/v2/', extra => <<"EOF",
        scim_schema_extension $grfile;
EOF
    server_extra => <<'EOF'));
    location /newrelic/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant newrelic;
        scim_bearer_token_file %%TOKEN_FILE%%;
    }
EOF
$t->start_nginx_ok;

# managers the Reference attribute points to
my $mgr1 = $t->create_user(entra_user(userName => 'gr.manager1@example.com',
                                      displayName => 'GR Manager One'))->{json} // {};
my $mgr2 = $t->create_user(entra_user(userName => 'gr.manager2@example.com',
                                      displayName => 'GR Manager Two'))->{json} // {};
my %mgr_dn = (($mgr1->{id} // 'm1') => 'GR Manager One',
              ($mgr2->{id} // 'm2') => 'GR Manager Two');

# ------------------------------------------------ the Global Relay table

my @GR_ROWS = (
    [ 'userName', 'gr.user@contoso.example' ],
    [ 'active', 'bool:true' ],
    [ 'displayName', 'Grace Relay' ],
    [ 'title', 'Compliance Officer' ],
    [ 'emails[type eq "work"].value', 'grace.work@contoso.example' ],
    [ 'preferredLanguage', 'en-US' ],
    [ 'name.givenName', 'Grace' ],
    [ 'name.familyName', 'Relay' ],
    [ 'name.formatted', 'Dr. Grace Relay Jr.' ],
    [ 'addresses[type eq "work"].formatted', "1 Work Way\nVancouver BC V6B 1A1\nCA" ],
    [ 'addresses[type eq "work"].streetAddress', '1 Work Way' ],
    [ 'addresses[type eq "work"].locality', 'Vancouver' ],
    [ 'addresses[type eq "work"].region', 'BC' ],
    [ 'addresses[type eq "work"].postalCode', 'V6B 1A1' ],
    [ 'addresses[type eq "work"].country', 'CA' ],
    [ 'addresses[type eq "other"].formatted', '9 Other Street, Oslo' ],
    [ 'phoneNumbers[type eq "work"].value', '+1 604 555 0100' ],
    [ 'phoneNumbers[type eq "mobile"].value', '+1 604 555 0101' ],
    [ 'phoneNumbers[type eq "fax"].value', '+1 604 555 0102' ],
    [ 'externalId', 'gr-ext-0001' ],
    [ 'name.honorificPrefix', 'Dr.' ],
    [ 'name.honorificSuffix', 'Jr.' ],
    [ 'nickName', 'Gracie' ],
    [ 'userType', 'Employee' ],
    [ 'locale', 'en-CA' ],
    [ 'timezone', 'America/Vancouver' ],
    [ 'emails[type eq "home"].value', 'grace@home.example' ],
    [ 'emails[type eq "other"].value', 'grace@other.example' ],
    [ 'phoneNumbers[type eq "home"].value', '+1 604 555 0103' ],
    [ 'phoneNumbers[type eq "other"].value', '+1 604 555 0104' ],
    [ 'phoneNumbers[type eq "pager"].value', '+1 604 555 0105' ],
    [ 'addresses[type eq "home"].streetAddress', '2 Home Road' ],
    [ 'addresses[type eq "home"].locality', 'Burnaby' ],
    [ 'addresses[type eq "home"].region', 'BC' ],
    [ 'addresses[type eq "home"].postalCode', 'V5H 2A2' ],
    [ 'addresses[type eq "home"].country', 'CA' ],
    [ 'addresses[type eq "home"].formatted', '2 Home Road, Burnaby BC V5H 2A2' ],
    [ 'addresses[type eq "other"].streetAddress', '9 Other Street' ],
    [ 'addresses[type eq "other"].locality', 'Oslo' ],
    [ 'addresses[type eq "other"].region', 'Oslo' ],
    [ 'addresses[type eq "other"].postalCode', '0150' ],
    [ 'addresses[type eq "other"].country', 'NO' ],
    [ 'roles[primary eq "True"].display', 'Archive Reviewer' ],
    [ 'roles[primary eq "True"].type', 'WindowsAzureActiveDirectoryRole' ],
    [ 'roles[primary eq "True"].value', 'ArchiveReviewer' ],
    [ "$ENT:employeeNumber", '000123' ],
    [ "$ENT:costCenter", 'CC-42' ],
    [ "$ENT:organization", 'Contoso' ],
    [ "$ENT:division", 'Legal' ],
    [ "$ENT:department", 'Compliance' ],
    [ "$ENT:manager", 'ref:' . ($mgr1->{id} // 'm1') ],
    [ "$GR:proxyAddresses", 'SMTP:grace.work@contoso.example;smtp:grace@contoso.example' ],
    map({ [ "$GR:extensionAttribute$_", "ext-value-$_ ü" ] } 1 .. 15),
);

my @NR_ROWS = (
    [ 'userName', 'nr.user@newrelic.example' ],
    [ 'externalId', 'nr-ext-0001' ],
    [ 'active', 'bool:true' ],
    [ 'emails[type eq "work"].value', 'nr.user@newrelic.example' ],
    [ 'name.givenName', 'Nora' ],
    [ 'name.formatted', 'Nora Relic' ],
    [ 'timezone', 'America/Los_Angeles' ],
);

# the JSON value to send for a row value
sub wire {
    my ($v) = @_;
    return $v =~ /^bool:(true|false)$/ ? ($1 eq 'true' ? jtrue : jfalse)
         : $v =~ /^ref:(.*)$/ ? $1
         : $v;
}

# builds a resource from path => value rows, the way Entra shapes its POST
sub build {
    my (@rows) = @_;
    my $res = { schemas => [URN_USER, $ENT], meta => { resourceType => 'User' } };
    for my $row (@rows) {
        my ($path, $val) = @$row;
        my $node = $res;
        my $p = $path;
        if ($p =~ /^(urn:.*):([^:]+)$/) {
            $node = $res->{$1} //= {};
            $p = $2;
        }
        my ($attr, $fa, $fv, $sub) = $p =~
            /^(\w+)(?:\[(\w+) eq "([^"]*)"\])?(?:\.(\w+))?$/ or die $p;
        my $w = wire($val);
        if ($val =~ /^ref:/) {
            $node->{$attr} = { value => $w };
        } elsif (defined $fa) {
            my $arr = $node->{$attr} //= [];
            my $fval = $fv eq 'True' ? jtrue : $fv;
            my ($el) = grep { ($_->{$fa} // '') eq $fval } @$arr;
            unless ($el) {
                $el = { $fa => $fval };
                $el->{primary} = jtrue if $fa eq 'type' && $fv eq 'work'
                                          && $attr eq 'emails';
                push @$arr, $el;
            }
            $el->{$sub} = $w;
        } elsif (defined $sub) {
            $node->{$attr}{$sub} = $w;
        } else {
            $node->{$attr} = $w;
        }
    }
    return $res;
}

# path => comparable value, for every row
sub snap {
    my ($res, @rows) = @_;
    my %s;
    for my $row (@rows) {
        my $path = $row->[0];
        my $v = scim_get_path($res, $path);
        if ($row->[1] =~ /^ref:/ || $path =~ /:manager$/) {
            $v = ref $v eq 'HASH' ? 'ref:' . ($v->{value} // '') : defined $v ? "raw:$v" : undef;
        } elsif (JSON::PP::is_bool($v)) {
            $v = $v ? 'bool:true' : 'bool:false';
        } elsif (ref $v) {
            $v = 'ref-type:' . ref $v;
        }
        $s{$path} = $v;
    }
    return \%s;
}

sub expect { my %e = map { $_->[0] => $_->[1] } @_; \%e }

sub compare {
    my ($got, $want, $name) = @_;
    my @diff = grep { ($got->{$_} // '(absent)') ne ($want->{$_} // '(absent)') }
               sort keys %$want;
    ok(!@diff, $name) or diag join("\n", map {
        "  $_: got " . ($got->{$_} // '(absent)') . ', want ' . ($want->{$_} // '(absent)')
    } @diff);
}

# manager object: {value, $ref, displayName}
sub manager_ok {
    my ($res, $name) = @_;
    my $mg = scim_get_path($res, "$ENT:manager");
    my $mid = ref $mg eq 'HASH' ? $mg->{value} // '' : '';
    is_deeply($mg, { value => $mid, '$ref' => "$BASE/Users/$mid",
                     displayName => $mgr_dn{$mid} // '?' },
              "$name: manager is {value, \$ref, displayName}")
        or diag explain $mg;
}

sub roundtrip {
    my ($label, $base, $rows, %o) = @_;
    my @rows = @$rows;
    my $want = expect(@rows);

    # POST with everything, the custom extension not listed in schemas (CAA)
    my $body = build(@rows);
    my $r = $t->post("$base/Users", $body);
    is_scim_json($r, 201, "$label: POST with every attribute of the table");
    my $u = $r->{json} // {};
    my $id = $u->{id} // 'none';
    compare(snap($u, @rows), $want, "$label: POST response has every value unchanged");
    if ($o{gr}) {
        ok((grep { $_ eq $GR } @{ $u->{schemas} // [] }),
           "$label: response schemas lists the GlobalRelay URN");
        manager_ok($u, "$label POST");
    }

    $r = $t->get("$base/Users/$id");
    is_scim_json($r, 200, "$label: GET");
    compare(snap($r->{json}, @rows), $want, "$label: GET has every value unchanged");
    manager_ok($r->{json}, "$label GET") if $o{gr};

    $r = $t->get("$base/Users?" . qs(filter => 'userName eq "' . $want->{userName} . '"'));
    compare(snap((($r->{json}{Resources} // [])->[0]) // {}, @rows), $want,
            "$label: filter result has every value unchanged");

    # Replace with the same values, all in one PATCH: nothing changes
    $r = $t->patch("$base/Users/$id", patch_body(map {
        { op => 'Replace', path => $_->[0],
          value => ($_->[1] =~ /^bool:/ ? ($_->[1] eq 'bool:true' ? 'True' : 'False')
                                        : wire($_->[1])) }
    } @rows));
    is_scim_json($r, 200, "$label: PATCH Replace of every attribute with its own value");
    compare(snap($r->{json}, @rows), $want, "$label: ... every value unchanged");
    compare(snap($t->get("$base/Users/$id")->{json}, @rows), $want,
            "$label: ... and in a new GET");

    # attribute by attribute, a new value, Entra's default-job form
    my $n = 0;
    for my $row (@rows) {
        my ($path, $old) = @$row;
        $n++;
        my $new = $old =~ /^bool:/ ? 'bool:false'
                : $old =~ /^ref:/ ? 'ref:' . ($o{mgr2} // 'x')
                : $path eq 'userName' ? "renamed.$old"
                : "$old (changed $n)";
        my $send = $new eq 'bool:false' ? 'False' : wire($new);
        $r = $t->patch("$base/Users/$id",
                       patch_body({ op => 'Replace', path => $path, value => $send }));
        $want->{$path} = $new;
        my $ok = $r->{status} == 200
            && !grep { (snap($r->{json}, @rows)->{$_} // '') ne ($want->{$_} // '') } keys %$want;
        unless ($ok) {
            is($r->{status}, 200, "$label: Replace $path -> 200");
            compare(snap($r->{json} // {}, @rows), $want,
                    "$label: Replace $path: that value new, every other unchanged");
            next;
        }
        my $g = $t->get("$base/Users/$id");
        compare(snap($g->{json} // {}, @rows), $want,
                "$label: Replace $path: new value stored, every other unchanged");
    }
    manager_ok($t->get("$base/Users/$id")->{json}, "$label after manager Replace") if $o{gr};

    # a bare user filled by one Add per attribute (create on absent, Q5)
    my ($un) = map { $_->[1] } grep { $_->[0] eq 'userName' } @rows;
    $un = "bare.$un";
    $r = $t->post("$base/Users", { schemas => [URN_USER], userName => $un });
    is_scim_json($r, 201, "$label: POST a bare user");
    my $bid = $r->{json}{id} // 'none';
    my @add = grep { $_->[0] ne 'userName' } @rows;
    $r = $t->patch("$base/Users/$bid", patch_body(map {
        { op => 'Add', path => $_->[0],
          value => ($_->[1] =~ /^bool:/ ? ($_->[1] eq 'bool:true' ? 'True' : 'False')
                                        : wire($_->[1])) }
    } @add));
    is_scim_json($r, 200, "$label: one PATCH with an Add per attribute");
    my $bwant = expect(@rows);
    $bwant->{userName} = $un;
    compare(snap($t->get("$base/Users/$bid")->{json} // {}, @rows), $bwant,
            "$label: the bare user now has every value");

    # the flag form (Q9): one pathless op, dotted/URN keys for plain paths
    my @plain = grep { $_->[0] !~ /\[/ && $_->[0] ne 'userName' && $_->[0] ne 'active'
                       && $_->[1] !~ /^ref:/ } @rows;
    my %val = map { $_->[0] => wire($_->[1]) . ' (flag)' } @plain;
    $r = $t->patch("$base/Users/$bid", patch_body({ op => 'replace', value => \%val }));
    is_scim_json($r, 200, "$label: pathless replace with " . scalar(@plain) . ' dotted/URN keys');
    $bwant->{$_} = $val{$_} for keys %val;
    compare(snap($t->get("$base/Users/$bid")->{json} // {}, @rows), $bwant,
            "$label: pathless values stored, every other unchanged");
}

roundtrip('Global Relay', '/scim/v2', \@GR_ROWS, gr => 1, mgr2 => $mgr2->{id});
roundtrip('New Relic', '/newrelic/scim/v2', \@NR_ROWS);

$t->finish;
