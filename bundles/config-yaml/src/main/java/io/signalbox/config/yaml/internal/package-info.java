/**
 * YAML configuration files ({@code sidecar-config.yaml}) applied live as Config Admin
 * configurations through a felix-fileinstall {@code ArtifactInstaller}. Private to the bundle.
 */
package io.signalbox.config.yaml.internal;
