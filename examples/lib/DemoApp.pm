package DemoApp;
# What the four programs of the demo share: options, the config (asked from config-service, a
# child process that continues the caller's trace), and a few file helpers.
use strict;
use warnings;
use Exporter 'import';
use File::Basename qw(dirname);
use File::Spec;
use Getopt::Long qw(GetOptionsFromArray);
use JSON::PP ();

our @EXPORT_OK = qw(options config_section write_json read_json bin);

my $BIN = dirname(dirname(__FILE__));   # examples/

sub bin { "$BIN/$_[0]" }

# --config FILE --work DIR plus the program's own options; dies with usage on a bad command line.
sub options {
    my ($usage, @spec) = @_;
    my %o = (config => "$BIN/demo.conf", work => '.');
    GetOptionsFromArray(\@ARGV, \%o, 'config=s', 'work=s', @spec) or die "usage: $0 $usage\n";
    $o{config} = File::Spec->rel2abs($o{config});
    chdir $o{work} or die "$0: cannot change to $o{work}: $!\n";
    return \%o;
}

# One section of the config, parsed and checked by config-service. Call it inside a span with
# the trace exported ($sdk->export_trace), so that config-service's span joins the caller's trace.
sub config_section {
    my ($file, $section) = @_;
    open my $fh, '-|', $^X, bin('config-service'), '--section', $section, $file
        or die "cannot run config-service: $!\n";
    my $text = do { local $/; <$fh> };
    close $fh or die "config-service failed for [$section] of $file (exit " . ($? >> 8) . ")\n";
    return JSON::PP->new->decode($text);
}

sub write_json {   # written to a temp file and renamed: a reader never sees half of it
    my ($file, $data) = @_;
    open my $fh, '>', "$file.tmp" or die "$file.tmp: $!\n";
    print $fh JSON::PP->new->canonical->encode($data);
    close $fh or die "$file.tmp: $!\n";
    rename "$file.tmp", $file or die "rename $file: $!\n";
}

sub read_json {
    my ($file) = @_;
    open my $fh, '<', $file or return undef;
    my $text = do { local $/; <$fh> };
    return eval { JSON::PP->new->decode($text) };
}

1;
