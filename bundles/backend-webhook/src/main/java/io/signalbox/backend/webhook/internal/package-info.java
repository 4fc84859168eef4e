/**
 * The webhook backend: each batch is sent as one HTTP request (or several, in order, above
 * {@code max.batch.bytes}) whose body is a JSON array of the messages' lines. Private to the bundle.
 */
package io.signalbox.backend.webhook.internal;
