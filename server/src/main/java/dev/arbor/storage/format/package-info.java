/**
 * The envelope every file Arbor writes shares: a header naming the file's kind and format version
 * and a checksum, big-endian throughout, so that a wrong, corrupt or too-new file is refused with
 * a message that says which, before anything reads its body. Knows nothing of what the files hold.
 */
package dev.arbor.storage.format;
