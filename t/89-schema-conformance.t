#!/usr/bin/perl

# /Schemas describes what the module returns (issue 11): every resource
# this file receives (POST, GET, PUT, PATCH answers, lists, filters,
# .search, attributes=/excludedAttributes=) is checked against the
# published /Schemas and /ResourceTypes with t/lib/ScimSchemaCheck.pm:
# each attribute returned is declared, with its sub-attributes, and has
# the declared type.  Users carry every attribute of the core schema, the
# enterprise extension with a manager and the Global Relay extension of
# conf-examples/; groups have users and groups as members.  The checker
# itself is shown to catch what it must (undeclared attributes, wrong
# types, the Group schema without members.display as it was).

use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use ScimTest;
use ScimSchemaCheck;

my $t = ScimTest->new(workers => 2);
my $ENT = URN_ENT;
my $GR = URN_GR;

my $grfile = $t->repo . '/conf-examples/global-relay/globalrelay-extension.json';
ok(-f $grfile, 'the Global Relay extension schema exists');

$t->write_config($t->standard_conf(extra => <<"EOF"));
        scim_schema_extension $grfile;
EOF
$t->start_nginx_ok;

my $sc = ScimSchemaCheck->from_server(sub { $t->get($_[0]) });
is_deeply([$sc->resource_types], ['Group', 'User'],
          '/ResourceTypes: User and Group');
ok($sc->schema($_), "/Schemas has $_") for URN_USER, URN_GROUP, $ENT, $GR;

# every answer with a body under Users, Groups, .search is checked
my ($checked, @bad) = (0);
{
    my $orig = \&ScimTest::request;
    no warnings 'redefine';
    *ScimTest::request = sub {
        my ($self, $method, $path) = @_;
        my $r = $orig->(@_);
        if ($path =~ m{^(?:Users|Groups|\.search)}
            && ($r->{status} // 0) =~ /^2/ && length($r->{content} // ''))
        {
            my $type = $path =~ /^Users/ ? 'User'
                     : $path =~ /^Groups/ ? 'Group' : undef;
            $checked++;
            push @bad, map { "$method $path: $_" }
                       $sc->check_response($r, $type);
        }
        return $r;
    };
}

sub all_conform {
    my ($name) = @_;
    is_deeply(\@bad, [], $name) or diag(join "\n", @bad);
    @bad = ();
}

# ---------------------------------------------------------- resources

my $mgr = $t->create_user(entra_user(userName => 'boss@example.com',
                                     displayName => 'The Boss'))->{json};
my $mid = $mgr->{id} // 'none';

my $cert = 'MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx';

my %full = (
    schemas => [URN_USER, $ENT, $GR],
    externalId => 'ext-full',
    userName => 'full@example.com',
    name => { formatted => 'Ms. Barbara J Jensen, III',
              familyName => 'Jensen', givenName => 'Barbara',
              middleName => 'Jane', honorificPrefix => 'Ms.',
              honorificSuffix => 'III' },
    displayName => 'Babs Jensen',
    nickName => 'Babs',
    profileUrl => 'https://login.example.com/bjensen',
    title => 'Tour Guide',
    userType => 'Employee',
    preferredLanguage => 'en-US',
    locale => 'en-US',
    timezone => 'America/Los_Angeles',
    active => jtrue,
    password => 't1meMa$heen',
    emails => [ { value => 'full@example.com', type => 'work',
                  primary => jtrue, display => 'work mail' },
                { value => 'babs@jensen.org', type => 'home' } ],
    phoneNumbers => [ { value => '+1 555 555 5555', type => 'work',
                        primary => jtrue },
                      { value => '555-555-4444', type => 'mobile',
                        display => 'cell' } ],
    ims => [ { value => 'someaimhandle', type => 'aim' } ],
    photos => [ { value => 'https://photos.example.com/profilephoto/72930000000Ccne/F',
                  type => 'photo', primary => jtrue } ],
    addresses => [ { type => 'work', streetAddress => '100 Universal City Plaza',
                     locality => 'Hollywood', region => 'CA',
                     postalCode => '91608', country => 'USA',
                     formatted => "100 Universal City Plaza\nHollywood, CA 91608 USA",
                     primary => jtrue },
                   { type => 'home', locality => 'Oslo' } ],
    entitlements => [ { value => 'Spaceship access', type => 'x',
                        display => 'ship', primary => jtrue } ],
    roles => [ { value => 'Tour Guide', display => 'guide', type => 'job',
                 primary => jfalse } ],
    x509Certificates => [ { value => $cert, display => 'cert',
                            primary => jtrue } ],
    $ENT => { employeeNumber => '701984', costCenter => '4130',
              organization => 'Universal Studios', division => 'Theme Park',
              department => 'Tour Operations',
              manager => { value => $mid } },
    $GR => { proxyAddresses => 'SMTP:full@example.com',
             map { ("extensionAttribute$_" => "value $_") } 1 .. 15 },
);

my $r = $t->post('Users', \%full);
is($r->{status}, 201, 'POST a user with every attribute and extension')
    or diag($r->{content});
my $uid = $r->{json}{id} // 'none';
my $u2 = $t->create_user('second@example.com')->{json}{id} // 'none';

$r = $t->post('Groups', { schemas => [URN_GROUP], displayName => 'Inner',
                          externalId => 'g-inner',
                          members => [ { value => $uid }, { value => $u2 } ] });
is($r->{status}, 201, 'POST a group with two users');
my $inner = $r->{json}{id} // 'none';

$r = $t->post('Groups', { schemas => [URN_GROUP], displayName => 'Outer',
                          members => [ { value => $inner, type => 'Group' },
                                       { value => $mid } ] });
is($r->{status}, 201, 'POST a group with a group and a user');
my $outer = $r->{json}{id} // 'none';
all_conform('the POST answers conform to /Schemas');

# reads
$t->get("Users/$_") for $uid, $u2, $mid;
$t->get("Groups/$_") for $inner, $outer;
$t->get('Users');
$t->get('Groups');
$t->get('Users?count=1&startIndex=2');
$t->get('Users?' . qs(filter => 'userName eq "full@example.com"'));
$t->get('Users?' . qs(filter => qq{$ENT:manager.value eq "$mid"}));
$t->get('Users?' . qs(filter => 'emails[type eq "work"]'));
$t->get('Groups?' . qs(filter => qq{members.value eq "$uid"}));
$t->get('Groups?' . qs(filter => 'displayName eq "Inner"'));
$t->get('Users?' . qs(sortBy => 'name.familyName', sortOrder => 'descending'));
$t->get("Users/$uid?" . qs(attributes => 'emails.value,groups,name.givenName'));
$t->get("Users/$uid?" . qs(excludedAttributes => 'emails,groups'));
$t->get("Groups/$inner?" . qs(attributes => 'members.display,members.$ref'));
$t->get("Groups/$inner?" . qs(excludedAttributes => 'members'));
$t->get("Users/$uid?" . qs(attributes => "$ENT:manager,$GR:proxyAddresses"));
$t->post('Users/.search', { schemas => ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
                            filter => 'userName sw "full"',
                            attributes => ['userName', 'groups'] });
$t->post('.search', { schemas => ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
                      filter => 'displayName pr' });
$r = $t->get('Groups?' . qs(filter => 'members.display eq "second@example.com"'));
is_deeply([ map { $_->{id} } @{ $r->{json}{Resources} // [] } ], [$inner],
          'filter on members.display (now declared) finds the group');
$r = $t->post('Groups', { schemas => [URN_GROUP], displayName => 'Sent display',
                          members => [ { value => $u2, display => 'bogus' } ] });
is($r->{json}{members}[0]{display}, 'second@example.com',
   'members.display is readOnly: a display sent is ignored, the name shown');
all_conform('the GET, list, filter and .search answers conform');

# writes answering with the resource
my %put = %full;
delete $put{password};
$put{displayName} = 'Barbara Jensen';
$r = $t->put("Users/$uid", \%put);
is($r->{status}, 200, 'PUT the full user');
$r = $t->patch_ops($uid, { op => 'replace', path => 'title', value => 'Chief' },
                   { op => 'add', path => 'emails',
                     value => [ { value => 'third@example.com', type => 'other' } ] });
is($r->{status}, 200, 'PATCH the full user');
$r = $t->patch("Groups/$inner", patch_body({ op => 'add', path => 'members',
                                             value => [ { value => $mid } ] }),
               headers => { Prefer => 'return=representation' });
ok($r->{status} == 200 || $r->{status} == 204, 'PATCH a group');
$r = $t->put("Groups/$outer", { schemas => [URN_GROUP], displayName => 'Outer',
                                members => [ { value => $inner }, { value => $uid } ] });
is($r->{status}, 200, 'PUT a group');
$t->get("Groups/$_") for $inner, $outer;
$t->get("Users/$_") for $uid, $mid;
all_conform('the PUT and PATCH answers conform');

cmp_ok($checked, '>=', 30, "$checked answers checked");

# the attributes of interest were seen, so checked
my $seen = $sc->seen;
for my $p ('Group:members.display', 'Group:members.$ref', 'Group:members.type',
           'Group:members.value', 'User:groups.display', 'User:groups.$ref',
           'User:groups.type', 'User:groups.value',
           "User:$ENT:manager.displayName", "User:$ENT:manager.\$ref",
           'User:meta.created', 'User:meta.lastModified', 'User:meta.location',
           'User:meta.version', 'User:meta.resourceType', 'Group:meta.version',
           'User:x509Certificates.value', 'User:photos.value',
           'User:addresses.formatted', 'User:name.honorificSuffix',
           "User:$GR:extensionAttribute15", 'User:externalId',
           'Group:externalId', 'User:active', 'User:profileUrl')
{
    ok($seen->{$p}, "checked $p");
}
ok(!$seen->{'User:password'}, 'password never returned');

# ------------------------------------------------------ the checker itself

my $g = $t->get("Groups/$inner")->{json};
my $doc = $sc->schema(URN_GROUP);
my %old = %$doc;
$old{attributes} = [ map {
    $_->{name} ne 'members' ? $_ : { %$_, subAttributes =>
        [ grep { $_->{name} ne 'display' } @{ $_->{subAttributes} } ] }
} @{ $doc->{attributes} } ];
my $oldsc = ScimSchemaCheck->new(
    schemas => [ \%old ],
    resource_types => [ { name => 'Group', endpoint => '/Groups',
                          schema => URN_GROUP } ]);
my @p = $oldsc->check_resource($g, 'Group');
ok(scalar(grep { /members\[0\]\.display: no sub-attribute/ } @p),
   'a Group schema without members.display rejects a group with members')
    or diag(join "\n", @p);

my $u = $t->get("Users/$uid")->{json};
my %cases = (
    'undeclared attribute' => [ sub { $_[0]{nickname2} = 'x' },
                                qr/nickname2: not declared/ ],
    'misspelled case'      => [ sub { $_[0]{UserName} = delete $_[0]{userName} },
                                qr/spells it "userName"/ ],
    'boolean as string'    => [ sub { $_[0]{active} = 'true' },
                                qr/active: boolean/ ],
    'string as number'     => [ sub { $_[0]{title} = 5 },
                                qr/title: string/ ],
    'multi as object'      => [ sub { $_[0]{emails} = $_[0]{emails}[0] },
                                qr/emails: multiValued/ ],
    'single as array'      => [ sub { $_[0]{name} = [ $_[0]{name} ] },
                                qr/name: single-valued/ ],
    'bad dateTime'         => [ sub { $_[0]{meta}{created} = '2026-01-01' },
                                qr/meta\.created: dateTime/ ],
    'unknown sub-attribute'=> [ sub { $_[0]{emails}[0]{label} = 'x' },
                                qr/emails\[0\]\.label: no sub-attribute/ ],
    'manager ref to a group' => [ sub { $_[0]{$ENT}{manager}{'$ref'} =~ s{/Users/}{/Groups/} },
                                qr/manager\.\$ref: .* no URL of a User/ ],
    'password returned'    => [ sub { $_[0]{password} = 'x' },
                                qr/password: returned "never"/ ],
    'extension not listed' => [ sub { $_[0]{schemas} = [URN_USER, $GR] },
                                qr/present but not in "schemas"/ ],
    'wrong meta type'      => [ sub { $_[0]{meta}{resourceType} = 'Group' },
                                qr/no resource type|meta\.resourceType/ ],
);
is_deeply([$sc->check_resource($u, 'User')], [], 'the full user conforms');
for my $name (sort keys %cases) {
    my $copy = json_decode(json_encode($u));
    $cases{$name}[0]->($copy);
    my @q = $sc->check_resource($copy, 'User');
    ok(scalar(grep { $_ =~ $cases{$name}[1] } @q), "checker catches: $name")
        or diag(join("\n", @q) || '(no problem found)');
}
my @lp = $sc->check_list({ schemas => [ScimSchemaCheck::URN_LIST],
                           totalResults => '1', Resources => [ $u ],
                           extra => 1 }, 'User');
ok(scalar(grep { /totalResults must be/ } @lp)
   && scalar(grep { /"extra" is no ListResponse/ } @lp),
   'checker catches a ListResponse with a string count and a stray key');

$t->finish;
