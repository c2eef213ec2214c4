/** Test fixtures shared across packages: real resources (filesystems) tests need and set up. */
package dev.arbor.testing;
