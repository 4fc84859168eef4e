/** In-framework tests of the assembled pipeline (not exported: a test bundle). */
package io.signalbox.itests;
