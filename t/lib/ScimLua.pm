package ScimLua;

# Runs the store's Lua scripts (ngx_http_scim_module/store/lua) alone,
# against the bare redis-server of a ScimTest (module => 0): no nginx, no
# C.  A script runs as the module calls it: FCALL of its function in the
# library the module loads (gen.pl --library; loaded here by FUNCTION
# LOAD REPLACE when Redis has not got it).  With SCIM_LUA_EVAL=1, by EVAL
# of the text the module sends to a Redis without functions (gen.pl
# --body: what the script uses of lib.lua, then the script).
#
#   my $t = ScimTest->new(module => 0);
#   my $l = ScimLua->new($t, 't1');          # tenant t1
#   my $r = $l->run('get', [$l->keys], 'User', 'u1', '0');
#   my ($r, $err) = $l->run_err(...);        # err: a Redis error reply
#   $l->user('u1', 'alice', ...)             # a user made by create.lua
#
# Key names: $l->key('seq') is "scim:{t1}:seq"; $l->keys the tenant's
# keys, which every script takes as KEYS, in the order of the names at
# the top of lib.lua (layout 3).  Reading the data: $l->stored('User', 'u1') (the
# document), $l->members_of('g1'), $l->groups_of('u1') (sorted ids).

use strict;
use warnings;

use ScimTest;
use IO::Socket::INET;
use IO::Select;

my $DIR = ScimTest->repo . '/ngx_http_scim_module/store/lua';

sub slurp {
    my ($path) = @_;
    open(my $fh, '<:raw', $path) or die "$path: $!";
    local $/;
    return scalar <$fh>;
}

# the text the module sends (gen.pl --body: what the script uses of
# lib.lua, then the script)
my %source;

sub source {
    my ($class, $name) = @_;
    return $source{$name} //= do {
        my $text = `perl $DIR/gen.pl --body $name`;
        die "gen.pl --body $name failed\n" if $? != 0 || $text eq '';
        $text;
    };
}

# the function library: (text, name)
my ($library, $libname);

sub library {
    unless (defined $library) {
        $library = `perl $DIR/gen.pl --library`;
        die "gen.pl --library failed\n" if $? != 0 || $library eq '';
        ($libname) = $library =~ /^#!lua name=(\w+)\n/
            or die "gen.pl --library: no name\n";
    }
    return wantarray ? ($library, $libname) : $library;
}

sub new {
    my ($class, $t, $tenant) = @_;
    return bless { t => $t, p => "scim:{$tenant}:" }, $class;
}

sub prefix { $_[0]{p} }
sub key    { $_[0]{p} . $_[1] }

# the order of the names at the top of store/lua/lib.lua and of
# ngx_scim_store_keys[] in store/ngx_scim_store.c
my @KEYS = qw(User:docs User:display Group:display User:manager memberof
              User:idx:userName User:idx:externalId
              Group:docs members
              Group:idx:displayName Group:idx:externalId
              User:ids Group:ids seq User:idx:email User:reports events);

sub keys {
    my ($self) = @_;
    return map { $self->key($_) } @KEYS;
}

# a stored document (undef: none)
sub stored {
    my ($self, $type, $id) = @_;
    return $self->cmd('HGET', $self->key("$type:docs"), $id);
}

# the ids paired with id in members (a group's members) or memberof (a
# member's groups), sorted
sub _related {
    my ($self, $z, $id) = @_;
    my $r = $self->cmd('ZRANGEBYLEX', $self->key($z), "[$id\0",
                       "($id\1") // [];
    return [map { substr($_, length($id) + 1) } @$r];
}

sub members_of { $_[0]->_related('members', $_[1]) }
sub groups_of  { $_[0]->_related('memberof', $_[1]) }

# a command's reply (a scalar, even in list context)
sub cmd { my $self = shift; return scalar $self->{t}->redis_cmd(@_) }

# a script's reply; run_err: (reply, Redis error)
sub run { my $self = shift; return scalar $self->run_err(@_) }

# a script's "--! keys n" (or "m-n"): it takes at most the first n of
# the tenant's keys (at least m)
sub nkeys {
    my ($class, $name) = @_;
    my ($m, $n) = slurp("$DIR/$name.lua") =~ /^--! keys (\d+)(?:-(\d+))?$/m;
    die "$name.lua: no \"--! keys n\" line\n" unless $m;
    return wantarray ? ($m, $n // $m) : $n // $m;
}

# how many keys the module sends with a call of the script, as
# store/ngx_scim_store.c decides: get a user's up to memberof, a group's
# up to members; find and find_ext up to the index they read; the others
# their n
my %POS;
sub nkeys_for {
    my ($class, $name, @argv) = @_;
    %POS = map { $KEYS[$_] => $_ + 1 } 0 .. $#KEYS unless %POS;
    if ($name eq 'get') {
        return $argv[0] eq 'User' ? $POS{memberof} : $POS{members};
    }
    if ($name eq 'find') {
        my $k = $argv[1] eq 'User' ? 'User:idx:userName'
              : 'Group:idx:displayName';
        return $POS{$k};
    }
    if ($name eq 'find_ext') {
        return $POS{"$argv[1]:idx:externalId"} // scalar(@KEYS);
    }
    return scalar ScimLua->nkeys($name);
}

# keys: all the tenant's ($l->keys) are cut to those the module sends
# with that call (nkeys_for); any other list is sent as it is
sub run_err {
    my ($self, $name, $keys, @argv) = @_;
    if (@$keys == @KEYS && $keys->[0] eq $self->key($KEYS[0])) {
        $keys = [@$keys[0 .. ScimLua->nkeys_for($name, @argv) - 1]];
    }
    my ($r, $e);
    if ($ENV{SCIM_LUA_EVAL}) {
        ($r, $e) = $self->{t}->redis_cmd('EVAL', ScimLua->source($name),
                                         scalar(@$keys), @$keys, @argv);
        return wantarray ? ($r, $e) : $r;
    }
    my ($text, $lib) = ScimLua->library;
    for my $try (1, 2) {
        ($r, $e) = $self->{t}->redis_cmd('FCALL', "${lib}_$name",
                                         scalar(@$keys), @$keys, @argv);
        last unless $try == 1 && ($e // '') =~ /^ERR Function not found/;
        my (undef, $le) = $self->{t}->redis_cmd('FUNCTION', 'LOAD',
                                                'REPLACE', $text);
        die "FUNCTION LOAD: $le\n" if defined $le;
    }
    return wantarray ? ($r, $e) : $r;
}

# run_err, and the keys the script's commands named, as MONITOR saw
# them (the first argument of each: every command the scripts send has
# one key; XGROUP's and XINFO's the second, XREADGROUP's the one after
# STREAMS), and the commands: (reply, error, [key, ...], [command, ...])
sub touched {
    my ($self, $name, $keys, @argv) = @_;
    my $m = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $self->{t}->redis_port,
                                  Timeout => 5) or die "monitor: $!";
    print $m "MONITOR\r\n";
    my $buf = '';
    my $sel = IO::Select->new($m);
    while ($buf !~ /\+OK\r\n/) {
        $sel->can_read(5) or die 'MONITOR: no answer';
        sysread($m, $buf, 65536, length $buf) or die 'MONITOR: EOF';
    }
    $buf = '';
    my ($r, $e) = $self->run_err($name, $keys, @argv);
    my $mark = 'end-of-script-' . rand();
    $self->cmd('ECHO', $mark);
    while (index($buf, $mark) < 0) {
        $sel->can_read(5) or die 'MONITOR: no end mark';
        sysread($m, $buf, 65536, length $buf) or die 'MONITOR: EOF';
    }
    close($m);
    my (@keys, @cmds);
    for my $line (split /\r\n/, $buf) {
        next unless $line =~ /\[\d+ lua\] (.*)$/;
        my @a = $1 =~ /"((?:[^"\\]|\\.)*)"/g;
        my $c = uc shift @a;
        push @cmds, $c;
        if ($c eq 'XGROUP' || $c eq 'XINFO') {
            push @keys, $a[1];
        } elsif ($c eq 'XREADGROUP') {
            my ($i) = grep { uc $a[$_] eq 'STREAMS' } 0 .. $#a;
            push @keys, $a[$i + 1];
        } else {
            push @keys, $a[0];
        }
    }
    return ($r, $e, \@keys, \@cmds);
}

# a stored document's text without its version tail, and with it
sub head {
    my ($self, $id, $name, $lm) = @_;
    $lm //= '2026-01-01T00:00:00.000Z';
    return qq({"id":"$id","name":"$name","meta":{"lastModified":"$lm",)
         . q("version":");
}

sub doc {
    my ($self, $id, $name, $v, $lm) = @_;
    return $self->head($id, $name, $lm) . qq(W/\\"$v\\""}});
}

# create.lua: (type, id, name, ext => externalId, display, manager,
# members => [ids], emails => [e-mails], unique => 1) -> reply
sub create {
    my ($self, $type, $id, $name, %o) = @_;
    my @add = @{ $o{members} // [] };
    my @em = @{ $o{emails} // [] };
    return $self->run('create', [$self->keys],
        $id, $self->head($id, $name), lc $name, $o{ext} // '',
        $o{display} // $name, $type, $o{manager} // '',
        scalar(@add), @add, scalar(@em), @em, $o{unique} ? '1' : '0');
}

# the ids of an externalId index (User or Group), as its entries say
# ("<externalId>\0<id>"): { externalId => [ids sorted] }
sub ext_index {
    my ($self, $type) = @_;
    my %r;
    for my $m (@{ $self->cmd('ZRANGE', $self->key("$type:idx:externalId"),
                             0, -1) // [] })
    {
        my $i = rindex($m, "\0");
        push @{ $r{ substr($m, 0, $i) } }, substr($m, $i + 1);
    }
    $_ = [sort @$_] for values %r;
    return \%r;
}

sub user  { my $s = shift; $s->create('User', @_) }
sub group { my $s = shift; $s->create('Group', @_) }

1;
