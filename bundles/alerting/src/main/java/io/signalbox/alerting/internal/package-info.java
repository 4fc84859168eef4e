/** Alerting: rule files, evaluation, alert lifecycle, notifications (not exported). */
package io.signalbox.alerting.internal;
