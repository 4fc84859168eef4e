/**
 * The Signalbox SDK for Java: {@link io.signalbox.sdk.Monitoring} (built with
 * {@link io.signalbox.sdk.Monitoring#builder()}) and {@link io.signalbox.sdk.Span} scopes.
 * No dependencies; a plain jar that is also an OSGi bundle exporting this package.
 */
@org.osgi.annotation.versioning.Version("1.0.0")
@org.osgi.annotation.bundle.Export
package io.signalbox.sdk;
