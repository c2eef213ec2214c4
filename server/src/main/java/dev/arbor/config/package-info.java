/**
 * Parsing of configuration values shared by flags and schedules (durations). Imports nothing of
 * Arbor's, so every package may use it.
 */
package dev.arbor.config;
