/**
 * The CloudWatch Logs backend: each batch is written with PutLogEvents (AWS SDK v2, embedded),
 * split and sorted per the service contract. Private to the bundle.
 */
package io.signalbox.backend.cloudwatch.internal;
