package MonitoringSDK;
# The older design's name for Monitoring::SDK: MonitoringSDK->new(...) and MonitoringSDK->init(...)
# give the same client.
use strict;
use warnings;
use Monitoring::SDK ();
our @ISA     = ('Monitoring::SDK');
our $VERSION = $Monitoring::SDK::VERSION;
1;
