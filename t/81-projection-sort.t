#!/usr/bin/perl

# Projection and sorting (issue 4; RFC 7644 3.9, 3.4.2.3, 3.4.2.4):
# attributes / excludedAttributes on GET of one resource, on lists, and on
# POST/PUT/PATCH answers; sub-attributes (name.givenName, emails.value),
# extension attributes by URN and whole extension blocks; "returned"
# honoured: id and a returned:always extension attribute always, password
# and a returned:never attribute never, a returned:request attribute only
# when asked for.  sortBy on singular attributes and sub-attributes,
# typed (case-insensitive strings, integers, decimals, dateTimes with
# offsets), missing values last ascending / first descending, sortOrder,
# and paging over a sorted result: pages concatenate to the whole sorted
# list, also with ties.

use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep);
use ScimTest;

binmode(Test::More->builder->$_, ':utf8') for qw(output failure_output todo_output);

my $t = ScimTest->new(workers => 2);

use constant URN_PX => 'urn:example:params:scim:schemas:extension:proj:2.0:User';
my $PX = URN_PX;
my $ENT = URN_ENT;

sub attr {
    my ($name, $type, %o) = @_;
    return { name => $name, type => $type, multiValued => jfalse,
             description => $name, required => jfalse, caseExact => jfalse,
             mutability => 'readWrite', returned => 'default',
             uniqueness => 'none', %o };
}

$t->write_file('proj-ext.json', json_encode({
    schemas => ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
    id => URN_PX, name => 'ProjUser', description => 'projection test extension',
    attributes => [
        attr('note', 'string', returned => 'request'),
        attr('code', 'string', returned => 'always'),
        attr('secret', 'string', returned => 'never', mutability => 'writeOnly'),
        attr('level', 'integer'),
        attr('score', 'decimal'),
        attr('hired', 'dateTime'),
        attr('badge', 'string', caseExact => jtrue),
    ],
}));

my $EXT = "        scim_schema_extension %%DIR%%/proj-ext.json;\n";
$t->write_config($t->standard_conf(extra => $EXT, server_extra => <<"EOF"));
    location /sort/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant sorting;
        scim_bearer_token_file %%TOKEN_FILE%%;
$EXT
    }
EOF
$t->start_nginx_ok;

sub create {
    my ($path, $body) = @_;
    my $r = $t->post($path, $body);
    diag("POST $path failed: HTTP $r->{status} $r->{content}") unless $r->{status} == 201;
    return $r->{json} // {};
}

sub keys_of { join(',', sort keys %{ ref $_[0] eq 'HASH' ? $_[0] : {} }) }

# ------------------------------------------------------------ projection

my $mgr = create('Users', { schemas => [URN_USER], userName => 'the.manager' });
my $full = {
    schemas => [URN_USER, $ENT, $PX],
    userName => 'proj.user', externalId => 'ext-proj', displayName => 'Proj User',
    name => { givenName => 'Pro', familyName => 'User', formatted => 'Pro User' },
    emails => [{ value => 'proj@example.com', type => 'work', primary => jtrue },
               { value => 'proj@home.example', type => 'home' }],
    phoneNumbers => [{ value => '+1 555 0100', type => 'mobile' }],
    active => jtrue, title => 'Tester', password => 'Pa55word!',
    $ENT => { employeeNumber => '42', department => 'QA', manager => { value => $mgr->{id} } },
    $PX => { note => 'on request only', code => 'C-1', secret => 'hush', level => 3 },
};
my $r = $t->post('Users', $full);
is_scim_json($r, 201, 'POST a user with password and every kind of attribute');
my $u = $r->{json} // {};
my $id = $u->{id} // 'none';
ok(!exists $u->{password}, 'POST answer: no password (returned never)');
ok(!exists(($u->{$PX} // {})->{secret}), 'POST answer: no returned:never extension attribute');
ok(!exists(($u->{$PX} // {})->{note}), 'POST answer: no returned:request attribute');
is(($u->{$PX} // {})->{code}, 'C-1', 'POST answer: returned:always attribute');
unlike($r->{content}, qr/Pa55word|hush/, 'POST answer: the secrets appear nowhere');

sub get_user {
    my ($q) = @_;
    my $r = $t->get("Users/$id" . (defined $q ? "?$q" : ''));
    is_scim_json($r, 200, "GET /Users/{id}" . (defined $q ? "?$q" : ''));
    return ($r->{json} // {}, $r);
}

my ($d, $res) = get_user();
is($d->{id}, $id, 'default: id');
is($d->{userName}, 'proj.user', 'default: userName');
ok(ref $d->{name} eq 'HASH' && ref $d->{emails} eq 'ARRAY' && ref $d->{meta} eq 'HASH',
   'default: name, emails, meta');
ok(!exists $d->{password}, 'default: no password');
ok(!exists(($d->{$PX} // {})->{note}), 'default: returned:request attribute absent');
ok(!exists(($d->{$PX} // {})->{secret}), 'default: returned:never attribute absent');
is(($d->{$PX} // {})->{code}, 'C-1', 'default: returned:always attribute');
is(($d->{$PX} // {})->{level}, 3, 'default: returned:default extension attribute');
unlike($res->{content}, qr/Pa55word|hush/, 'default: the secrets appear nowhere');

($d) = get_user(qs(attributes => 'userName'));
is($d->{id}, $id, 'attributes=userName: id (returned always)');
is($d->{userName}, 'proj.user', 'attributes=userName: userName');
ok(ref $d->{schemas} eq 'ARRAY', 'attributes=userName: schemas');
ok(!exists $d->{$_}, "attributes=userName: no $_")
    for qw(name emails phoneNumbers displayName externalId active title password);
ok(!exists(($d->{$ENT} // {})->{department}), 'attributes=userName: no enterprise attributes');
is(($d->{$PX} // {})->{code}, 'C-1', 'attributes=userName: returned:always extension attribute still there');
ok(!exists(($d->{$PX} // {})->{level}), 'attributes=userName: no returned:default extension attribute');

($d) = get_user(qs(attributes => 'name.givenName'));
is_deeply($d->{name}, { givenName => 'Pro' }, 'attributes=name.givenName: name has givenName only');
ok(!exists $d->{userName}, 'attributes=name.givenName: no userName');

($d) = get_user(qs(attributes => 'emails.value'));
is_deeply($d->{emails}, [{ value => 'proj@example.com' }, { value => 'proj@home.example' }],
          'attributes=emails.value: each email has its value only');

($d) = get_user(qs(attributes => 'emails'));
is_deeply($d->{emails}, $u->{emails}, 'attributes=emails: the whole emails');
ok(!exists $d->{name}, 'attributes=emails: no name');

($d) = get_user(qs(attributes => 'userName,displayName'));
ok(defined $d->{userName} && defined $d->{displayName} && !exists $d->{name},
   'attributes=userName,displayName: both and nothing else');

($d) = get_user(qs(attributes => 'userName, displayName'));
ok(defined $d->{userName} && defined $d->{displayName},
   'attributes with a space after the comma');

($d) = get_user(qs(attributes => 'USERNAME,Name.GivenName'));
is($d->{userName}, 'proj.user', 'attribute names in any case: userName');
is_deeply($d->{name}, { givenName => 'Pro' }, 'attribute names in any case: name.givenName');

($d) = get_user(qs(attributes => 'urn:ietf:params:scim:schemas:core:2.0:User:userName'));
is($d->{userName}, 'proj.user', 'attributes by full core URN');
ok(!exists $d->{name}, '... and nothing else');

($d) = get_user(qs(attributes => "$ENT:department"));
is_deeply($d->{$ENT}, { department => 'QA' }, 'attributes=<enterprise>:department: that one only');
ok(!exists $d->{userName}, '... no userName');

($d) = get_user(qs(attributes => $ENT));
is(($d->{$ENT} // {})->{employeeNumber}, '42', 'attributes=<enterprise URN>: the whole block');
is((($d->{$ENT} // {})->{manager} // {})->{value}, $mgr->{id}, '... with manager');
ok(!exists $d->{userName}, '... and no core attributes');

($d) = get_user(qs(attributes => "$ENT:manager.value"));
is_deeply(($d->{$ENT} // {})->{manager}, { value => $mgr->{id} },
          'attributes=<enterprise>:manager.value');

($d) = get_user(qs(attributes => "$PX:note"));
is(($d->{$PX} // {})->{note}, 'on request only', 'returned:request attribute when asked for');
is(($d->{$PX} // {})->{code}, 'C-1', '... with the returned:always one');

($d, $res) = get_user(qs(attributes => 'password,userName'));
ok(!exists $d->{password}, 'attributes=password: still never returned');
($d, $res) = get_user(qs(attributes => "$PX:secret"));
ok(!exists(($d->{$PX} // {})->{secret}), 'attributes=<returned:never>: still never returned');
unlike($res->{content}, qr/Pa55word|hush/, '... the secrets appear nowhere');

($d) = get_user(qs(attributes => 'meta.lastModified'));
ok(defined(($d->{meta} // {})->{lastModified}) && !exists(($d->{meta} // {})->{location}),
   'attributes=meta.lastModified: meta with that sub-attribute only')
    or diag explain $d->{meta};

($d) = get_user(qs(attributes => ''));
ok(defined $d->{userName} && defined $d->{name}, 'attributes= (empty): the default set');

($d) = get_user(qs(excludedAttributes => 'emails'));
ok(!exists $d->{emails}, 'excludedAttributes=emails: no emails');
ok(defined $d->{userName} && ref $d->{name} eq 'HASH' && ref $d->{phoneNumbers} eq 'ARRAY',
   '... the rest is there');

($d) = get_user(qs(excludedAttributes => 'name.familyName'));
is_deeply($d->{name}, { givenName => 'Pro', formatted => 'Pro User' },
          'excludedAttributes=name.familyName: name without familyName');

($d) = get_user(qs(excludedAttributes => 'emails.type'));
is_deeply($d->{emails}, [{ value => 'proj@example.com', primary => jtrue },
                         { value => 'proj@home.example' }],
          'excludedAttributes=emails.type: emails without type');

($d) = get_user(qs(excludedAttributes => 'id'));
is($d->{id}, $id, 'excludedAttributes=id: id is returned always');

($d) = get_user(qs(excludedAttributes => "$PX:code"));
is(($d->{$PX} // {})->{code}, 'C-1', 'excludedAttributes=<returned:always>: still returned');

($d) = get_user(qs(excludedAttributes => 'meta'));
ok(!exists $d->{meta}, 'excludedAttributes=meta: no meta');

($d) = get_user(qs(excludedAttributes => "emails,phoneNumbers,$ENT"));
ok(!exists $d->{emails} && !exists $d->{phoneNumbers} && !exists $d->{$ENT},
   'excludedAttributes=emails,phoneNumbers,<enterprise URN>');
ok(defined $d->{userName}, '... userName still there');

($d) = get_user(qs(excludedAttributes => "$ENT:department"));
ok(!exists(($d->{$ENT} // {})->{department}) && ($d->{$ENT} // {})->{employeeNumber} eq '42',
   'excludedAttributes=<enterprise>:department: the rest of the block stays');

($d) = get_user(qs(excludedAttributes => 'EMAILS'));
ok(!exists $d->{emails}, 'excludedAttributes in another case');

($d) = get_user(qs(excludedAttributes => "$PX:note"));
ok(!exists(($d->{$PX} // {})->{note}), 'excludedAttributes: returned:request stays absent');

# lists
$r = $t->get('Users?' . qs(filter => 'userName eq "proj.user"', attributes => 'userName'));
is_list_response($r, 1, 1, 'list with attributes=userName');
my $l = ($r->{json}{Resources} // [])->[0] // {};
is($l->{id}, $id, 'list item: id');
is($l->{userName}, 'proj.user', 'list item: userName');
ok(!exists $l->{emails} && !exists $l->{name}, 'list item: no other attributes');

$r = $t->get('Users?' . qs(attributes => 'userName', count => 10));
is_list_response($r, 2, 2, 'list of all users with attributes=userName');
ok(!grep({ exists $_->{name} || exists $_->{emails} || !defined $_->{id} }
         @{ $r->{json}{Resources} // [] }), 'every item projected, each with its id');

$r = $t->get('Users?' . qs(excludedAttributes => 'emails,name', count => 10));
ok(!grep({ exists $_->{emails} || exists $_->{name} } @{ $r->{json}{Resources} // [] }),
   'list with excludedAttributes=emails,name');
$r = $t->get('Users?' . qs(filter => 'userName eq "proj.user"'));
ok(!exists((($r->{json}{Resources} // [])->[0] // {})->{password}), 'list item: no password');
unlike($r->{content}, qr/Pa55word|hush/, 'list: the secrets appear nowhere');

# answers of writes
$r = $t->post('Users?' . qs(attributes => 'userName'),
              { schemas => [URN_USER], userName => 'proj.two', displayName => 'Two',
                emails => [{ value => 'two@example.com' }] });
is($r->{status}, 201, 'POST /Users?attributes=userName -> 201');
my $two = $r->{json} // {};
ok(defined $two->{id} && $two->{userName} eq 'proj.two' && !exists $two->{emails}
   && !exists $two->{displayName}, '... the answer is projected')
    or diag $r->{content};
ok(defined $r->{headers}{location}, '... Location header still set');

$r = $t->put("Users/$two->{id}?" . qs(excludedAttributes => 'emails'),
             { schemas => [URN_USER], userName => 'proj.two', displayName => 'Two 2',
               emails => [{ value => 'two@example.com' }] });
is($r->{status}, 200, 'PUT ?excludedAttributes=emails -> 200');
ok(!exists(($r->{json} // {})->{emails}) && ($r->{json}{displayName} // '') eq 'Two 2',
   '... the answer is projected') or diag $r->{content};

$r = $t->patch("Users/$two->{id}?" . qs(attributes => 'displayName'),
               patch_body({ op => 'replace', path => 'displayName', value => 'Two 3' }));
is($r->{status}, 200, 'PATCH ?attributes=displayName -> 200');
ok(($r->{json}{displayName} // '') eq 'Two 3' && !exists $r->{json}{userName}
   && defined $r->{json}{id}, '... the answer is projected') or diag $r->{content};

$r = $t->put("Users/$id", { %$full, password => 'N3w-pass!' });
is($r->{status}, 200, 'PUT with a new password');
unlike($r->{content}, qr/N3w-pass|Pa55word|hush/, 'PUT answer: no password');
$r = $t->patch("Users/$id", patch_body({ op => 'replace', path => 'password', value => 'Th1rd-pass!' }));
is($r->{status}, 200, 'PATCH of password');
unlike($r->{content}, qr/Th1rd-pass|N3w-pass|hush/, 'PATCH answer: no password');

# groups
my $g = create('Groups', { schemas => [URN_GROUP], displayName => 'Projected',
                           externalId => 'g-ext', members => [{ value => $id }, { value => $mgr->{id} }] });
$r = $t->get("Groups/$g->{id}?" . qs(attributes => 'displayName'));
is_scim_json($r, 200, 'GET /Groups/{id}?attributes=displayName');
ok(($r->{json}{displayName} // '') eq 'Projected' && !exists $r->{json}{members}
   && !exists $r->{json}{externalId} && ($r->{json}{id} // '') eq $g->{id},
   '... displayName and id only') or diag $r->{content};
$r = $t->get("Groups/$g->{id}?" . qs(excludedAttributes => 'members'));
ok(!exists $r->{json}{members} && ($r->{json}{externalId} // '') eq 'g-ext',
   'excludedAttributes=members: no members, the rest there') or diag $r->{content};
$r = $t->get("Groups/$g->{id}?" . qs(attributes => 'members.value'));
is_deeply([ sort map { join(',', sort keys %$_) } @{ $r->{json}{members} // [] } ],
          ['value', 'value'], 'attributes=members.value: members with value only')
    or diag $r->{content};
$r = $t->get('Groups?' . qs(attributes => 'displayName'));
is_list_response($r, 1, 1, 'GET /Groups?attributes=displayName');
ok(!exists((($r->{json}{Resources} // [])->[0] // {})->{members}), '... no members in the list');

# ------------------------------------------------------------- sorting

my $S = '/sort/scim/v2/';
my @people = (
    { userName => 'delta',   familyName => 'Zimmer', title => 'b',  level => 10,  score => 1.5,
      hired => '2020-01-01T00:00:00Z', userType => 'Employee', email => 'd@example.com',
      badge => 'b' },
    { userName => 'alpha',   familyName => 'müller', title => 'A',  level => 9,   score => 10.25,
      hired => '2020-01-01T01:30:00+02:00', userType => 'Contractor', email => 'z@example.com',
      badge => 'B' },
    { userName => 'Charlie', familyName => 'Adams',                 level => 100, score => 2,
      hired => '2019-12-31T23:59:59Z', userType => 'Employee', email => 'a@example.com',
      badge => 'a' },
    { userName => 'bravo',   familyName => 'Müller2', title => 'c', level => -1,  score => -3.5,
      userType => 'Employee', email => 'm@example.com', badge => 'A' },
    { userName => 'Echo',                          title => 'B',   level => 0,
      hired => '2021-06-01T12:00:00-05:00', userType => 'Contractor' },
    { userName => 'foxtrot', familyName => 'baker', title => 'a',  score => 0.5,
      hired => '2021-06-01T16:00:00Z' },
    { userName => 'Golf',    familyName => 'Carter',                level => 2,   score => 2.25 },
);
my %sid;
for my $p (@people) {
    my $b = { schemas => [URN_USER, $PX], userName => $p->{userName},
              displayName => "D $p->{userName}" };
    $b->{name} = { familyName => $p->{familyName} } if defined $p->{familyName};
    $b->{title} = $p->{title} if defined $p->{title};
    $b->{userType} = $p->{userType} if defined $p->{userType};
    $b->{$PX} = { map { defined $p->{$_} ? ($_ => $p->{$_}) : () } qw(level score hired badge) };
    $b->{emails} = [{ value => 'x' . $p->{email}, type => 'home' },
                    { value => $p->{email}, type => 'work', primary => jtrue }]
        if defined $p->{email};
    $sid{ $p->{userName} } = create("${S}Users", $b)->{id};
    sleep 0.02;
}
my @created = map { $_->{userName} } @people;

sub sorted {
    my (@q) = @_;
    my $r = $t->get("${S}Users?" . qs(count => 100, @q));
    return ["HTTP $r->{status}: $r->{content}"] unless $r->{status} == 200;
    return [ map { $_->{userName} // '?' } @{ $r->{json}{Resources} // [] } ];
}

sub order_is {
    my ($q, $want, $name) = @_;
    is_deeply(sorted(@$q), $want, $name . ' -> ' . join(' ', @$want));
}

# missing values: last ascending, first descending; the missing ones in
# any order among themselves
sub order_with_missing {
    my ($q, $present, $missing, $name) = @_;
    my $got = sorted(@$q);
    my $desc = grep { $_ eq 'descending' } @$q;
    my $np = @$present;
    my @gp = $desc ? @$got[@$missing .. $#$got] : @$got[0 .. $np - 1];
    my @gm = $desc ? @$got[0 .. $#$missing] : @$got[$np .. $#$got];
    my $ok = @$got == $np + @$missing
        && "@gp" eq "@$present"
        && join(' ', sort grep { defined } @gm) eq join(' ', sort @$missing);
    ok($ok, "$name -> " . ($desc ? "(@$missing) @$present" : "@$present (@$missing)"))
        or diag("got: @$got");
}

my @by_name = sort { lc $a cmp lc $b } @created;
order_is([sortBy => 'userName'], \@by_name, 'sortBy=userName: case-insensitive, ascending by default');
order_is([sortBy => 'userName', sortOrder => 'ascending'], \@by_name, 'sortOrder=ascending');
order_is([sortBy => 'userName', sortOrder => 'descending'], [ reverse @by_name ],
         'sortOrder=descending');
order_is([sortBy => 'USERNAME'], \@by_name, 'sortBy in upper case');
order_is([sortBy => 'urn:ietf:params:scim:schemas:core:2.0:User:userName'], \@by_name,
         'sortBy with the full core URN');
order_is([sortBy => 'displayName'], [ map { $_ } sort { lc $a cmp lc $b } @created ],
         'sortBy=displayName');
order_is([sortBy => 'id'], [ sort { $sid{$a} cmp $sid{$b} } @created ], 'sortBy=id (caseExact)');
order_is([sortBy => 'meta.created'], \@created, 'sortBy=meta.created: creation order');
order_is([sortBy => 'meta.created', sortOrder => 'descending'], [ reverse @created ],
         'sortBy=meta.created descending');
order_is([sortOrder => 'descending'], \@created, 'sortOrder without sortBy: ignored (creation order)');

order_with_missing([sortBy => 'name.familyName'],
                   ['Charlie', 'foxtrot', 'Golf', 'alpha', 'bravo', 'delta'], ['Echo'],
                   'sortBy=name.familyName (sub-attribute, unicode, case-insensitive)');
order_with_missing([sortBy => 'name.familyName', sortOrder => 'descending'],
                   ['delta', 'bravo', 'alpha', 'Golf', 'foxtrot', 'Charlie'], ['Echo'],
                   'sortBy=name.familyName descending: missing first');
{
    my $got = sorted(sortBy => 'title');
    my @first2 = sort @$got[0, 1];
    my @next2 = sort @$got[2, 3];
    ok("@first2" eq 'alpha foxtrot' && "@next2" eq 'Echo delta' && $got->[4] eq 'bravo'
       && join(' ', sort @$got[5, 6]) eq 'Charlie Golf',
       'sortBy=title: A=a < b=B < c, case-insensitive; missing last') or diag("got: @$got");
}
order_with_missing([sortBy => "$PX:level"], ['bravo', 'Echo', 'Golf', 'alpha', 'delta', 'Charlie'],
                   ['foxtrot'], 'sortBy=<ext>:level: integers in numeric order');
order_with_missing([sortBy => "$PX:level", sortOrder => 'descending'],
                   ['Charlie', 'delta', 'alpha', 'Golf', 'Echo', 'bravo'], ['foxtrot'],
                   'sortBy=<ext>:level descending');
order_with_missing([sortBy => "$PX:score"], ['bravo', 'foxtrot', 'delta', 'Charlie', 'Golf', 'alpha'],
                   ['Echo'], 'sortBy=<ext>:score: decimals in numeric order');
order_with_missing([sortBy => "$PX:hired"],
                   ['alpha', 'Charlie', 'delta', 'foxtrot', 'Echo'], ['bravo', 'Golf'],
                   'sortBy=<ext>:hired: dateTimes by instant (offsets applied)');
order_with_missing([sortBy => "$PX:badge"], ['bravo', 'alpha', 'Charlie', 'delta'],
                   ['Echo', 'foxtrot', 'Golf'], 'sortBy=<caseExact ext>: case-sensitive (A B a b)');
order_with_missing([sortBy => 'emails.value'], ['Charlie', 'delta', 'bravo', 'alpha'],
                   ['Echo', 'foxtrot', 'Golf'],
                   'sortBy=emails.value: by the primary value (RFC 7644 3.4.2.3)');

# with a filter
order_is([filter => 'userType eq "Employee"', sortBy => 'userName', sortOrder => 'descending'],
         ['delta', 'Charlie', 'bravo'], 'filter + sortBy + descending');
order_is([filter => 'title pr', sortBy => "$PX:level"], ['bravo', 'Echo', 'alpha', 'delta', 'foxtrot'],
         'filter + sortBy on an extension attribute');

# paging over a sorted result
for my $n (1, 2, 3) {
    my @all;
    for (my $si = 1; $si <= 9; $si += $n) {
        my $r = $t->get("${S}Users?" . qs(sortBy => 'userName', startIndex => $si, count => $n));
        is_list_response($r, 7, undef, "sortBy=userName startIndex=$si count=$n");
        push @all, map { $_->{userName} } @{ $r->{json}{Resources} // [] };
    }
    is_deeply(\@all, \@by_name, "pages of $n concatenate to the sorted list");
}
{
    my @all;
    for (my $si = 1; $si <= 7; $si += 2) {
        my $r = $t->get("${S}Users?" . qs(sortBy => 'name.familyName', sortOrder => 'descending',
                                          startIndex => $si, count => 2));
        push @all, map { $_->{userName} } @{ $r->{json}{Resources} // [] };
    }
    is_deeply(\@all, sorted(sortBy => 'name.familyName', sortOrder => 'descending'),
              'descending pages of 2 concatenate to the whole descending list');
}
# ties: userType has 3 Employees, 2 Contractors, 2 missing
{
    my $whole = sorted(sortBy => 'userType');
    my @all;
    for my $si (1 .. 7) {
        my $r = $t->get("${S}Users?" . qs(sortBy => 'userType', startIndex => $si, count => 1));
        push @all, map { $_->{userName} } @{ $r->{json}{Resources} // [] };
    }
    is_deeply(\@all, $whole, 'ties: pages of 1 give the same order as the whole list (stable)');
    my %seen;
    $seen{$_}++ for @all;
    is(scalar(keys %seen), 7, 'ties: every user exactly once over the pages');
    is_deeply(sorted(sortBy => 'userType'), $whole, 'ties: the same order again');
    my %type = map { $_->{userName} => $_->{userType} // '' } @people;
    is(join(' ', map { $type{$_} } @$whole),
       'Contractor Contractor Employee Employee Employee  ',
       'sortBy=userType: Contractor < Employee < missing');
}

# bad sort parameters
$r = $t->get("${S}Users?" . qs(sortBy => 'userName', sortOrder => 'sideways'));
is_scim_error($r, 400, undef, 'sortOrder=sideways -> 400');

# groups
my @gn = ('beta', 'Alpha', 'gamma', 'Delta');
create("${S}Groups", { schemas => [URN_GROUP], displayName => $_ }) for @gn;
$r = $t->get("${S}Groups?" . qs(sortBy => 'displayName'));
is_deeply([ map { $_->{displayName} } @{ $r->{json}{Resources} // [] } ],
          [ sort { lc $a cmp lc $b } @gn ], 'Groups: sortBy=displayName');
$r = $t->get("${S}Groups?" . qs(sortBy => 'displayName', sortOrder => 'descending',
                                startIndex => 2, count => 2));
is_deeply([ map { $_->{displayName} } @{ $r->{json}{Resources} // [] } ],
          [ (reverse sort { lc $a cmp lc $b } @gn)[1, 2] ],
          'Groups: sortBy=displayName descending, second page of 2');
is($r->{json}{totalResults}, 4, '... totalResults 4');

$t->finish;
