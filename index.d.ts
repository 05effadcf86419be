// Hand-written type declarations of todb. They mirror those of classic-level 3.0.0 (todb is a
// drop-in replacement for it) and add what todb has on top of abstract-level 3: a trailing
// Node-style callback on every asynchronous method, and levelup's read streams.
//
// Callback overloads are added next to abstract-level's promise overloads, never in place of
// them, so that Todb remains a valid subclass of AbstractLevel and its iterators and chained
// batches stay assignable to abstract-level's. (A Todb instance is not assignable to the type
// AbstractLevel<...> itself, but neither is a ClassicLevel or any other subclass: abstract-level
// 3's `hooks` property is invariant in the database type.) Not typed here, although they work at
// runtime:
// - callbacks and streams on sublevels: db.sublevel() keeps abstract-level's return type,
//   AbstractSublevel, whose methods are promise-only (declaring a callback-aware sublevel type
//   would mean restating all of AbstractLevel's overloads a second time);
// - db.batch(callback) with no operations: at runtime it reports abstract-level's TypeError to
//   the callback, and it is left undeclared so that tsc flags it instead;
// - getProperty() with a callback: getProperty() is synchronous and takes no callback.

import type { Readable } from 'stream'

import {
  AbstractLevel,
  AbstractDatabaseOptions,
  AbstractOpenOptions,
  AbstractGetOptions,
  AbstractGetManyOptions,
  AbstractHasOptions,
  AbstractHasManyOptions,
  AbstractPutOptions,
  AbstractDelOptions,
  AbstractBatchOperation,
  AbstractBatchOptions,
  AbstractClearOptions,
  AbstractChainedBatch,
  AbstractChainedBatchWriteOptions,
  AbstractIteratorOptions,
  AbstractIterator,
  AbstractKeyIterator,
  AbstractKeyIteratorOptions,
  AbstractValueIterator,
  AbstractValueIteratorOptions,
  AbstractSnapshot,
  Transcoder
} from 'abstract-level'

/**
 * An {@link AbstractLevel} database backed by todb's LevelDB-format engine (written in Rust).
 * A drop-in replacement for `ClassicLevel` of
 * [`classic-level`](https://github.com/Level/classic-level): it reads and writes the same
 * on-disk format and has the same API, and it is also exported under that name.
 *
 * Every asynchronous method returns a promise, as in abstract-level 3, unless it is given a
 * Node-style callback as its last argument, as leveldown and levelup took: it then returns
 * `undefined`, calls back exactly once on a later tick with `(err, result)` (`err` is `null`
 * on success) and never leaves an unhandled rejection.
 *
 * @template KDefault The default type of keys if not overridden on operations.
 * @template VDefault The default type of values if not overridden on operations.
 */
export declare class Todb<KDefault = string, VDefault = string>
  extends AbstractLevel<string | Buffer | Uint8Array, KDefault, VDefault> {
  /**
   * Database constructor. The database opens on its own (on first use, or right away with
   * a callback), or explicitly with {@link open}.
   *
   * @param location Directory path (relative or absolute) where todb will store its files.
   * Throws a `TypeError` (synchronously, even when a callback is given) unless it is a
   * non-empty string.
   * @param options Options, of which some will be forwarded to {@link open}.
   */
  constructor (
    location: string,
    options?: DatabaseOptions<KDefault, VDefault> | undefined
  )

  /**
   * Database constructor that also opens the database, as levelup's constructor did.
   *
   * @param location Directory path (relative or absolute) where todb will store its files.
   * @param callback Called once opening has finished, with `(null, db)` on success or
   * `(err)` on failure (for example `LEVEL_DATABASE_NOT_OPEN` with a `cause` whose code is
   * `LEVEL_LOCKED` when another instance holds the directory).
   */
  constructor (
    location: string,
    callback: (err: LevelError | null, db?: Todb<KDefault, VDefault>) => void
  )

  /**
   * Database constructor that also opens the database, as levelup's constructor did.
   *
   * @param location Directory path (relative or absolute) where todb will store its files.
   * @param options Options, of which some will be forwarded to {@link open}.
   * @param callback Called once opening has finished, with `(null, db)` on success or
   * `(err)` on failure.
   */
  constructor (
    location: string,
    options: DatabaseOptions<KDefault, VDefault> | undefined,
    callback: (err: LevelError | null, db?: Todb<KDefault, VDefault>) => void
  )

  /**
   * Location that was passed to the constructor.
   */
  get location (): string

  /**
   * Open the database. Opening an open database is a no-op.
   */
  open (): Promise<void>
  open (options: OpenOptions): Promise<void>

  /**
   * Open the database, then call `callback(err)`.
   */
  open (callback: ErrorCallback): void
  open (options: OpenOptions, callback: ErrorCallback): void

  /**
   * Close the database, after waiting for operations in progress. Closing a closed
   * database is a no-op.
   */
  close (): Promise<void>

  /**
   * Close the database, then call `callback(err)`.
   */
  close (callback: ErrorCallback): void

  /**
   * Get a value from the database by {@link key}.
   *
   * @returns A promise for the value, or for `undefined` if the key is not found.
   */
  get (key: KDefault): Promise<VDefault | undefined>
  get<K = KDefault, V = VDefault> (key: K, options: GetOptions<K, V>): Promise<V | undefined>

  /**
   * Get a value from the database by {@link key} and call `callback(err, value)`.
   *
   * Unlike the promise form, and as leveldown and levelup did, the callback form reports
   * a missing key as an error: a {@link NotFoundError} whose `code` is `'LEVEL_NOT_FOUND'`,
   * with `notFound: true` and `status: 404` (and no value).
   */
  get (key: KDefault, callback: GetCallback<VDefault>): void
  get<K = KDefault, V = VDefault> (key: K, options: GetOptions<K, V>, callback: GetCallback<V>): void

  /**
   * Synchronously get a value from the database by {@link key}. Returns `undefined` if the
   * key is not found. Throws if the database is not open.
   */
  getSync (key: KDefault): VDefault | undefined
  getSync<K = KDefault, V = VDefault> (key: K, options: GetOptions<K, V>): V | undefined

  /**
   * Get multiple values from the database by an array of {@link keys}, all read at one
   * point in time.
   *
   * @returns A promise for an array of values with the same order as {@link keys}, with
   * `undefined` for keys that are not found.
   */
  getMany (keys: KDefault[]): Promise<(VDefault | undefined)[]>
  getMany<K = KDefault, V = VDefault> (keys: K[], options: GetManyOptions<K, V>): Promise<(V | undefined)[]>

  /**
   * Get multiple values and call `callback(err, values)`. Keys that are not found yield
   * `undefined` in `values` (not an error).
   */
  getMany (keys: KDefault[], callback: ValueCallback<(VDefault | undefined)[]>): void
  getMany<K = KDefault, V = VDefault> (
    keys: K[],
    options: GetManyOptions<K, V>,
    callback: ValueCallback<(V | undefined)[]>
  ): void

  /**
   * Check if the database has an entry with the given {@link key}.
   *
   * @returns A promise for a boolean that will be true if the entry exists.
   */
  has (key: KDefault): Promise<boolean>
  has<K = KDefault> (key: K, options: HasOptions<K>): Promise<boolean>

  /**
   * Check if the database has an entry with the given {@link key} and call
   * `callback(err, exists)`.
   */
  has (key: KDefault, callback: ValueCallback<boolean>): void
  has<K = KDefault> (key: K, options: HasOptions<K>, callback: ValueCallback<boolean>): void

  /**
   * Check if the database has entries with the given {@link keys}, all at one point in
   * time.
   *
   * @returns A promise for an array of booleans with the same order as {@link keys}.
   */
  hasMany (keys: KDefault[]): Promise<boolean[]>
  hasMany<K = KDefault> (keys: K[], options: HasManyOptions<K>): Promise<boolean[]>

  /**
   * Check if the database has entries with the given {@link keys} and call
   * `callback(err, exists)`.
   */
  hasMany (keys: KDefault[], callback: ValueCallback<boolean[]>): void
  hasMany<K = KDefault> (keys: K[], options: HasManyOptions<K>, callback: ValueCallback<boolean[]>): void

  /**
   * Add a new entry or overwrite an existing entry.
   */
  put (key: KDefault, value: VDefault): Promise<void>
  put<K = KDefault, V = VDefault> (key: K, value: V, options: PutOptions<K, V>): Promise<void>

  /**
   * Add a new entry or overwrite an existing entry, then call `callback(err)`.
   */
  put (key: KDefault, value: VDefault, callback: ErrorCallback): void
  put<K = KDefault, V = VDefault> (key: K, value: V, options: PutOptions<K, V>, callback: ErrorCallback): void

  /**
   * Delete an entry by {@link key}. Deleting a missing key is not an error.
   */
  del (key: KDefault): Promise<void>
  del<K = KDefault> (key: K, options: DelOptions<K>): Promise<void>

  /**
   * Delete an entry by {@link key}, then call `callback(err)`.
   */
  del (key: KDefault, callback: ErrorCallback): void
  del<K = KDefault> (key: K, options: DelOptions<K>, callback: ErrorCallback): void

  /**
   * Perform multiple _put_ and/or _del_ operations in bulk, atomically.
   */
  batch (operations: Array<BatchOperation<typeof this, KDefault, VDefault>>): Promise<void>
  batch<K = KDefault, V = VDefault> (
    operations: Array<BatchOperation<typeof this, K, V>>,
    options: BatchOptions<K, V>
  ): Promise<void>

  /**
   * Perform multiple _put_ and/or _del_ operations in bulk, atomically, then call
   * `callback(err)`. If an operation is invalid, none is applied.
   */
  batch (
    operations: Array<BatchOperation<typeof this, KDefault, VDefault>>,
    callback: ErrorCallback
  ): void
  batch<K = KDefault, V = VDefault> (
    operations: Array<BatchOperation<typeof this, K, V>>,
    options: BatchOptions<K, V>,
    callback: ErrorCallback
  ): void

  /**
   * Create a chained batch, whose `write()` and `close()` also take callbacks.
   */
  batch (): ChainedBatch<typeof this, KDefault, VDefault>

  /**
   * Delete all entries or a range.
   */
  clear (): Promise<void>
  clear<K = KDefault> (options: ClearOptions<K>): Promise<void>

  /**
   * Delete all entries or a range, then call `callback(err)`.
   */
  clear (callback: ErrorCallback): void
  clear<K = KDefault> (options: ClearOptions<K>, callback: ErrorCallback): void

  /**
   * Create an iterator, whose `next()`, `nextv()`, `all()` and `close()` also take
   * callbacks. For example:
   *
   * ```js
   * for await (const [key, value] of db.iterator({ gte: 'a' })) {
   *   console.log([key, value])
   * }
   * ```
   */
  iterator (): Iterator<typeof this, KDefault, VDefault>
  iterator<K = KDefault, V = VDefault> (options: IteratorOptions<K, V>): Iterator<typeof this, K, V>

  /**
   * Create a key iterator, whose `next()`, `nextv()`, `all()` and `close()` also take
   * callbacks.
   */
  keys (): KeyIterator<typeof this, KDefault>
  keys<K = KDefault> (options: KeyIteratorOptions<K>): KeyIterator<typeof this, K>

  /**
   * Create a value iterator, whose `next()`, `nextv()`, `all()` and `close()` also take
   * callbacks.
   */
  values (): ValueIterator<typeof this, KDefault, VDefault>
  values<K = KDefault, V = VDefault> (options: ValueIteratorOptions<K, V>): ValueIterator<typeof this, K, V>

  /**
   * Create an explicit snapshot, to pass as the `snapshot` option of reads. Close it when
   * done (or use `await using`).
   *
   * @param options There are currently no options.
   */
  snapshot (options?: any | undefined): Snapshot

  /**
   * Create a readable stream of entries, as levelup's `createReadStream()` did. The stream
   * is in object mode and yields `{ key, value }` objects.
   *
   * With `keys: false` the stream yields values alone and with `values: false` keys alone,
   * as levelup's did (with both `false`, entries). Pass those options as literals for the
   * result to be typed accordingly; with non-literal booleans the item type is the union
   * of the three.
   *
   * The stream is a [`readable-stream`](https://github.com/nodejs/readable-stream)
   * `Readable` (through [`level-read-stream`](https://github.com/Level/read-stream)). It has
   * the API of Node's `Readable`, under whose type it is declared, but it is not an
   * `instanceof` Node's `stream.Readable`.
   */
  createReadStream (): ReadStream<{ key: KDefault, value: VDefault }, typeof this>
  createReadStream<K = KDefault, V = VDefault> (
    options: ReadStreamOptions<K, V> & { keys: false, values?: true | undefined }
  ): ReadStream<V, typeof this>
  createReadStream<K = KDefault, V = VDefault> (
    options: ReadStreamOptions<K, V> & { keys?: true | undefined, values: false }
  ): ReadStream<K, typeof this>
  createReadStream<K = KDefault, V = VDefault> (
    options: ReadStreamOptions<K, V> & (
      { keys?: true | undefined, values?: true | undefined } | { keys: false, values: false }
    )
  ): ReadStream<{ key: K, value: V }, typeof this>
  createReadStream<K = KDefault, V = VDefault> (
    options: ReadStreamOptions<K, V>
  ): ReadStream<{ key: K, value: V } | K | V, typeof this>

  /**
   * Create a readable stream of keys, as levelup's `createKeyStream()` did. The stream is
   * in object mode and yields keys. See {@link createReadStream} about its class.
   */
  createKeyStream (): ReadStream<KDefault, typeof this>
  createKeyStream<K = KDefault> (options: KeyStreamOptions<K>): ReadStream<K, typeof this>

  /**
   * Create a readable stream of values, as levelup's `createValueStream()` did. The stream
   * is in object mode and yields values. See {@link createReadStream} about its class.
   */
  createValueStream (): ReadStream<VDefault, typeof this>
  createValueStream<K = KDefault, V = VDefault> (options: ValueStreamOptions<K, V>): ReadStream<V, typeof this>

  /**
   * Get the approximate number of bytes of file system space used by the range
   * `[start..end)`.
   */
  approximateSize (start: KDefault, end: KDefault): Promise<number>
  approximateSize<K = KDefault> (start: K, end: K, options: StartEndOptions<K>): Promise<number>

  /**
   * Get the approximate number of bytes of file system space used by the range
   * `[start..end)` and call `callback(err, size)`.
   */
  approximateSize (start: KDefault, end: KDefault, callback: ValueCallback<number>): void
  approximateSize<K = KDefault> (
    start: K,
    end: K,
    options: StartEndOptions<K>,
    callback: ValueCallback<number>
  ): void

  /**
   * Manually trigger a database compaction in the range `[start..end)`.
   */
  /**
   * Serve this open database over the network, in this process: the Redis protocol (RESP2,
   * RESP3 after `HELLO 3`) or the memcache text protocol. Network clients and this process read
   * and write the same keys, and every change, whoever made it, is sent as a Redis keyspace
   * notification (and to memcache `watch` connections). Resolves once the server listens.
   * `close()` on the database closes its servers first.
   */
  serve (options?: ServeOptions): Promise<Server>
  serve (options: ServeOptions, callback: ValueCallback<Server>): void

  /**
   * Catch a database opened with `readOnly` up with its writer: its MANIFEST, tables and logs
   * are read again and the new state replaces the old at once. Iterators and snapshots made
   * before keep reading the state they were made on. If the writer keeps replacing the files
   * being read, the refresh retries a bounded number of times and then rejects (code
   * `LEVEL_IO_ERROR`, or `LEVEL_CORRUPTION` for damaged files), leaving the current state as it
   * was. On a database opened for writing it does nothing: a writer always reads its latest
   * state.
   */
  refresh (): Promise<void>

  /**
   * Catch a database opened with `readOnly` up with its writer, then call `callback(err)`.
   */
  refresh (callback: ErrorCallback): void

  compactRange (start: KDefault, end: KDefault): Promise<void>
  compactRange<K = KDefault> (start: K, end: K, options: StartEndOptions<K>): Promise<void>

  /**
   * Manually trigger a database compaction in the range `[start..end)`, then call
   * `callback(err)`.
   */
  compactRange (start: KDefault, end: KDefault, callback: ErrorCallback): void
  compactRange<K = KDefault> (start: K, end: K, options: StartEndOptions<K>, callback: ErrorCallback): void

  /**
   * Get internal details, by LevelDB property name (for example `'leveldb.stats'`,
   * `'leveldb.sstables'` or `'leveldb.num-files-at-level0'`). Synchronous, so there is no
   * callback form. Throws a `LEVEL_DATABASE_NOT_OPEN` error if the database is not open.
   *
   * @returns The property's value, or `undefined` for an unknown property (where
   * classic-level returns an empty string).
   */
  getProperty (property: string): string | undefined

  /**
   * Completely remove an existing database directory. Can be used in place of a full
   * directory removal to only remove LevelDB-related files.
   */
  static destroy (location: string): Promise<void>

  /**
   * Completely remove an existing database directory, then call `callback(err)`.
   */
  static destroy (location: string, callback: ErrorCallback): void

  /**
   * Attempt a restoration of a damaged database. Can also be used to perform a compaction
   * of the log into table files.
   */
  static repair (location: string): Promise<void>

  /**
   * Attempt a restoration of a damaged database, then call `callback(err)`.
   */
  static repair (location: string, callback: ErrorCallback): void
}

export { Todb as ClassicLevel }

/**
 * An error reported by todb or abstract-level. Most have a `code` such as
 * `'LEVEL_DATABASE_NOT_OPEN'`, `'LEVEL_INVALID_KEY'` or `'LEVEL_ITERATOR_NOT_OPEN'`, and some
 * a `cause` (for example `LEVEL_LOCKED` under `LEVEL_DATABASE_NOT_OPEN`); argument errors
 * are plain `TypeError`s without a code.
 */
export interface LevelError extends Error {
  /**
   * Error code, for example `'LEVEL_DATABASE_NOT_OPEN'`.
   */
  code?: string | undefined
}

/**
 * The error that the callback form of {@link Todb.get} reports for a missing key, as
 * leveldown and levelup did. (The promise form resolves `undefined` instead.)
 */
export interface NotFoundError extends LevelError {
  code: 'LEVEL_NOT_FOUND'
  notFound: true
  status: 404
}

/**
 * A Node-style callback for an operation without a result: `err` is `null` on success.
 */
export type ErrorCallback = (err: LevelError | null) => void

/**
 * A Node-style callback for an operation with a result: `(null, result)` on success,
 * `(err)` on failure.
 */
export type ValueCallback<T> = (err: LevelError | null, result?: T) => void

/**
 * The callback of {@link Todb.get}: `(null, value)` if the key is found, `(err)` with a
 * {@link NotFoundError} if it is not, `(err)` with another error on failure.
 */
export type GetCallback<V> = (err: NotFoundError | LevelError | null, value?: V) => void

/**
 * Options for the database constructor.
 */
export interface DatabaseOptions<K, V>
  extends AbstractDatabaseOptions<K, V>, Omit<OpenOptions, 'passive'> {}

/**
 * Options for the {@link Todb.open} method.
 */
export interface OpenOptions extends AbstractOpenOptions {
  /**
   * Unless set to `false`, all _compressible_ data will be run through the Snappy
   * compression algorithm before being stored. Snappy is very fast so leave this on
   * unless you have good reason to turn it off.
   *
   * @defaultValue `true`
   */
  compression?: boolean | undefined

  /**
   * The size (in bytes) of the in-memory
   * [LRU](http://en.wikipedia.org/wiki/Least_Recently_Used)
   * cache with frequently used uncompressed block contents.
   *
   * @defaultValue `8 * 1024 * 1024`
   */
  cacheSize?: number | undefined

  /**
   * The maximum size (in bytes) of the log (in memory and stored in the `.log` file on
   * disk). Beyond this size, the log data is converted to the first level of sorted table
   * files. From LevelDB documentation:
   *
   * > Larger values increase performance, especially during bulk loads. Up to
   * > two write buffers may be held in memory at the same time, so you may
   * > wish to adjust this parameter to control memory usage. Also, a larger
   * > write buffer will result in a longer recovery time the next time the
   * > database is opened.
   *
   * @defaultValue `4 * 1024 * 1024`
   */
  writeBufferSize?: number | undefined

  /**
   * The _approximate_ size of the blocks that make up the table files. The size relates
   * to uncompressed data (hence "approximate"). Blocks are indexed in the table file and
   * entry-lookups involve reading an entire block and parsing to discover the required
   * entry.
   *
   * @defaultValue `2048` (classic-level: `4096`). Smaller blocks make point reads that miss the
   * block cache cheaper, for slightly larger tables.
   */
  blockSize?: number | undefined

  /**
   * The maximum number of files that todb is allowed to have open at a time. If your
   * database is likely to have a large working set, you may increase this value to
   * prevent file descriptor churn. To calculate the number of files required for your
   * working set, divide your total data size by `maxFileSize`.
   *
   * @defaultValue `1000`
   */
  maxOpenFiles?: number | undefined

  /**
   * The number of entries before restarting the "delta encoding" of keys within blocks.
   * Each "restart" point stores the full key for the entry, between restarts, the common
   * prefix of the keys for those entries is omitted. Restarts are similar to the concept
   * of keyframes in video encoding and are used to minimise the amount of space required
   * to store keys. This is particularly helpful when using deep namespacing / prefixing
   * in your keys.
   *
   * @defaultValue `16`
   */
  blockRestartInterval?: number | undefined

  /**
   * The maximum amount of bytes to write to a file before switching to a new one. From
   * LevelDB documentation:
   *
   * > If your filesystem is more efficient with larger files, you could
   * > consider increasing the value. The downside will be longer compactions
   * > and hence longer latency / performance hiccups. Another reason to
   * > increase this parameter might be when you are initially populating a
   * > large database.
   *
   * @defaultValue `2 * 1024 * 1024`
   */
  maxFileSize?: number | undefined

  /**
   * Keep the database in memory only, on the engine's in-memory file system: nothing is
   * written to disk, `location` is only a name, and everything is gone on close. The API is
   * the same.
   *
   * @defaultValue `false`
   */
  inMemory?: boolean | undefined

  /**
   * Open without taking the directory's `LOCK`, to read a database that another process (or
   * instance) has open for writing. The database shows its state as of the open, including the
   * writer's acknowledged writes not yet flushed to tables, until {@link Todb.refresh} catches it
   * up. Nothing in the directory is created, written, renamed or deleted. Writes (`put()`,
   * `del()`, `batch()`, a chained batch's `write()`, `clear()`, `compactRange()`) and `serve()`
   * fail with code `LEVEL_READONLY`. A missing database is never created: the open fails with
   * `LEVEL_DATABASE_NOT_OPEN`, whatever `createIfMissing` says.
   *
   * Every table file of the state being read is held open, so the open uses one file descriptor
   * per table (plus the older states that iterators and snapshots still hold), and the disk space
   * of tables the writer deletes is freed only once no state here holds them.
   *
   * @defaultValue `false`
   */
  readOnly?: boolean | undefined

  /**
   * Allows multi-threaded access to a single database: every instance in this process
   * that opens the same location with `multithreading: true` (in this thread or in
   * [worker threads](https://nodejs.org/api/worker_threads.html)) shares one underlying
   * database, which closes when the last of them closes (or its thread ends). Every
   * instance must set it: without it, a location already open in the process fails to
   * open, with a `LEVEL_DATABASE_NOT_OPEN` error whose `cause` has code `LEVEL_LOCKED`,
   * and so does an instance setting it while the location is open without it.
   *
   * The first instance's options configure the shared database; later instances' tuning
   * options are ignored, and `errorIfExists: true` makes them fail. Other processes are
   * still locked out, and `destroy()` and `repair()` fail with `LEVEL_LOCKED` while any
   * instance has the location open.
   * A `readOnly` instance is never shared and takes no lock, so it opens beside any of them.
   *
   * @defaultValue `false`
   */
  multithreading?: boolean | undefined
}

/**
 * Additional options for the {@link Todb.get}, {@link Todb.getMany}, {@link Todb.has}
 * and {@link Todb.hasMany} methods.
 */
/**
 * Options for {@link Todb.serve}.
 */
export interface ServeOptions {
  /** TCP port; `0` picks a free one. @defaultValue `6379` for Redis, `11211` for memcache */
  port?: number | undefined
  /** Address to bind. @defaultValue `'127.0.0.1'` */
  host?: string | undefined
  /** @defaultValue `'redis'` */
  protocol?: 'redis' | 'memcache' | undefined
  /** Require `AUTH` (Redis) or memcached's text-protocol authentication. */
  password?: string | undefined
  /** Sync every network write to disk before acknowledging it. @defaultValue `false` */
  sync?: boolean | undefined
  /** Connections served at once. @defaultValue `10000` */
  maxClients?: number | undefined
  /** Largest Redis bulk argument, bytes. @defaultValue `512 * 1024 * 1024` */
  maxBulkLength?: number | undefined
  /** Most arguments in one Redis request. @defaultValue `1048576` */
  maxMultibulkLength?: number | undefined
  /** Longest inline request, bytes. @defaultValue `65536` */
  maxInlineLength?: number | undefined
  /** Bytes queued for a subscriber before it is disconnected. @defaultValue `32 * 1024 * 1024` */
  pubsubOutputLimit?: number | undefined
  /** Largest memcache item, bytes. @defaultValue `1024 * 1024` */
  maxItemSize?: number | undefined
  /** Send keyspace notifications. @defaultValue `true` */
  notifyKeyspaceEvents?: boolean | undefined
}

/**
 * A running server, from {@link Todb.serve}. While it listens it keeps the process alive, as a
 * listening `net.Server` does.
 */
export interface Server {
  /** The bound address, as `net.Server.address()` gives it. */
  address (): { address: string, family: string, port: number }
  /** Stop accepting and close every connection. Closing twice is harmless. */
  close (): Promise<void>
  close (callback: (err: Error | null) => void): void
  /** Let the process exit while this server listens. */
  unref (): this
  /** Undo `unref()`. */
  ref (): this
}

export interface ReadOptions {
  /**
   * Unless set to `false`, todb will fill its in-memory
   * [LRU](http://en.wikipedia.org/wiki/Least_Recently_Used) cache with data that was read.
   *
   * @defaultValue `true`
   */
  fillCache?: boolean | undefined
}

/**
 * Options for the {@link Todb.get} and {@link Todb.getSync} methods.
 */
export interface GetOptions<K, V> extends AbstractGetOptions<K, V>, ReadOptions {}

/**
 * Options for the {@link Todb.getMany} method.
 */
export interface GetManyOptions<K, V> extends AbstractGetManyOptions<K, V>, ReadOptions {}

/**
 * Options for the {@link Todb.has} method.
 */
export interface HasOptions<K> extends AbstractHasOptions<K>, ReadOptions {}

/**
 * Options for the {@link Todb.hasMany} method.
 */
export interface HasManyOptions<K> extends AbstractHasManyOptions<K>, ReadOptions {}

/**
 * Additional options for the {@link Todb.iterator}, {@link Todb.keys} and
 * {@link Todb.values} methods (and for the streams).
 */
export interface AdditionalIteratorOptions {
  /**
   * If set to `true`, todb will fill its in-memory
   * [LRU](http://en.wikipedia.org/wiki/Least_Recently_Used) cache with data that was read.
   *
   * @defaultValue `false`
   */
  fillCache?: boolean | undefined

  /**
   * Limit the amount of data (in bytes of the keys and values read) that the iterator will
   * hold in memory: a `nextv()` call stops gathering entries once more than this much is
   * gathered (it always yields at least one entry). Key iterators count only keys, and value
   * iterators only values, as classic-level does.
   *
   * @defaultValue `16 * 1024`
   */
  highWaterMarkBytes?: number | undefined
}

/**
 * Additional options for the {@link Todb.put}, {@link Todb.del} and {@link Todb.batch}
 * methods.
 */
export interface WriteOptions {
  /**
   * If set to `true`, todb will perform a synchronous write of the data although the
   * operation will be asynchronous as far as Node.js is concerned. Normally, the data is
   * passed to the operating system for writing and the operation completes immediately.
   * In contrast, a synchronous write will use
   * [`fsync()`](https://man7.org/linux/man-pages/man2/fsync.2.html) or equivalent, so the
   * operation will not complete until the data is actually on disk. Synchronous writes
   * are significantly slower than asynchronous writes.
   *
   * @defaultValue `false`
   */
  sync?: boolean | undefined
}

/**
 * Options for the {@link Todb.put} method.
 */
export interface PutOptions<K, V> extends AbstractPutOptions<K, V>, WriteOptions {}

/**
 * Options for the {@link Todb.del} method.
 */
export interface DelOptions<K> extends AbstractDelOptions<K>, WriteOptions {}

/**
 * Options for the {@link Todb.batch} method.
 */
export interface BatchOptions<K, V> extends AbstractBatchOptions<K, V>, WriteOptions {}

/**
 * Options for the {@link Todb.clear} method: a range, `limit`, `reverse`, `keyEncoding`
 * and an explicit `snapshot`.
 */
export interface ClearOptions<K> extends AbstractClearOptions<K> {}

/**
 * Options for the {@link ChainedBatch.write} method.
 */
export interface ChainedBatchWriteOptions extends AbstractChainedBatchWriteOptions, WriteOptions {}

/**
 * A chained batch, created by {@link Todb.batch} without arguments. Its `write()` and
 * `close()` also take a trailing Node-style callback.
 */
export interface ChainedBatch<TDatabase, KDefault, VDefault>
  extends AbstractChainedBatch<TDatabase, KDefault, VDefault> {
  /**
   * Commit the queued operations for this batch, atomically, and close the batch.
   */
  write (): Promise<void>
  write (options: ChainedBatchWriteOptions): Promise<void>

  /**
   * Commit the queued operations for this batch, then call `callback(err)`.
   */
  write (callback: ErrorCallback): void
  write (options: ChainedBatchWriteOptions, callback: ErrorCallback): void

  /**
   * Discard the batch without committing it. Closing twice is a no-op.
   */
  close (): Promise<void>

  /**
   * Discard the batch without committing it, then call `callback(err)`.
   */
  close (callback: ErrorCallback): void
}

/**
 * An iterator of entries, created by {@link Todb.iterator}. Its `next()`, `nextv()`,
 * `all()` and `close()` also take a trailing Node-style callback.
 */
export interface Iterator<TDatabase, K, V> extends AbstractIterator<TDatabase, K, V> {
  /**
   * Advance to the next entry and yield that entry, or `undefined` at the end.
   */
  next (): Promise<[K, V] | undefined>

  /**
   * Advance to the next entry and call `callback(err, key, value)`, as leveldown's
   * iterators did. At the end, `key` and `value` are both `undefined`.
   */
  next (callback: (err: LevelError | null, key?: K, value?: V) => void): void

  /**
   * Advance repeatedly and get at most {@link size} entries and call
   * `callback(err, entries)`. An empty array signals the end.
   */
  nextv (size: number, callback: ValueCallback<Array<[K, V]>>): void
  nextv (size: number, options: {}, callback: ValueCallback<Array<[K, V]>>): void

  /**
   * Advance repeatedly and get at most {@link size} entries in a single call. An empty
   * array signals the end.
   *
   * @param size Get at most this many entries. Has a soft minimum of 1.
   * @param options Options (none at the moment, reserved for future use).
   */
  nextv (size: number, options: {}): Promise<Array<[K, V]>>
  nextv (size: number): Promise<Array<[K, V]>>

  /**
   * Get all (remaining) entries, close the iterator and call `callback(err, entries)`.
   */
  all (callback: ValueCallback<Array<[K, V]>>): void
  all (options: {}, callback: ValueCallback<Array<[K, V]>>): void

  /**
   * Get all (remaining) entries as an array, automatically closing the iterator.
   *
   * @param options Options (none at the moment, reserved for future use).
   */
  all (options: {}): Promise<Array<[K, V]>>
  all (): Promise<Array<[K, V]>>

  /**
   * Close the iterator. Closing twice is a no-op.
   */
  close (): Promise<void>

  /**
   * Close the iterator, then call `callback(err)`.
   */
  close (callback: ErrorCallback): void

  /**
   * leveldown's name for {@link close}.
   *
   * @deprecated Use {@link close}.
   */
  end (): Promise<void>
  end (callback: ErrorCallback): void
}

/**
 * An iterator of keys, created by {@link Todb.keys}. Its `next()`, `nextv()`, `all()` and
 * `close()` also take a trailing Node-style callback.
 */
export interface KeyIterator<TDatabase, K> extends AbstractKeyIterator<TDatabase, K> {
  /**
   * Advance to the next key and yield that key, or `undefined` at the end.
   */
  next (): Promise<K | undefined>

  /**
   * Advance to the next key and call `callback(err, key)`. At the end, `key` is
   * `undefined`.
   */
  next (callback: ValueCallback<K>): void

  /**
   * Advance repeatedly and get at most {@link size} keys and call `callback(err, keys)`.
   * An empty array signals the end.
   */
  nextv (size: number, callback: ValueCallback<K[]>): void
  nextv (size: number, options: {}, callback: ValueCallback<K[]>): void

  /**
   * Advance repeatedly and get at most {@link size} keys in a single call. An empty array
   * signals the end.
   *
   * @param size Get at most this many keys. Has a soft minimum of 1.
   * @param options Options (none at the moment, reserved for future use).
   */
  nextv (size: number, options: {}): Promise<K[]>
  nextv (size: number): Promise<K[]>

  /**
   * Get all (remaining) keys, close the iterator and call `callback(err, keys)`.
   */
  all (callback: ValueCallback<K[]>): void
  all (options: {}, callback: ValueCallback<K[]>): void

  /**
   * Get all (remaining) keys as an array, automatically closing the iterator.
   *
   * @param options Options (none at the moment, reserved for future use).
   */
  all (options: {}): Promise<K[]>
  all (): Promise<K[]>

  /**
   * Close the iterator. Closing twice is a no-op.
   */
  close (): Promise<void>

  /**
   * Close the iterator, then call `callback(err)`.
   */
  close (callback: ErrorCallback): void

  /**
   * leveldown's name for {@link close}.
   *
   * @deprecated Use {@link close}.
   */
  end (): Promise<void>
  end (callback: ErrorCallback): void
}

/**
 * An iterator of values, created by {@link Todb.values}. Its `next()`, `nextv()`, `all()`
 * and `close()` also take a trailing Node-style callback.
 */
export interface ValueIterator<TDatabase, K, V> extends AbstractValueIterator<TDatabase, K, V> {
  /**
   * Advance to the next value and yield that value, or `undefined` at the end.
   */
  next (): Promise<V | undefined>

  /**
   * Advance to the next value and call `callback(err, value)`. At the end, `value` is
   * `undefined`.
   */
  next (callback: ValueCallback<V>): void

  /**
   * Advance repeatedly and get at most {@link size} values and call
   * `callback(err, values)`. An empty array signals the end.
   */
  nextv (size: number, callback: ValueCallback<V[]>): void
  nextv (size: number, options: {}, callback: ValueCallback<V[]>): void

  /**
   * Advance repeatedly and get at most {@link size} values in a single call. An empty
   * array signals the end.
   *
   * @param size Get at most this many values. Has a soft minimum of 1.
   * @param options Options (none at the moment, reserved for future use).
   */
  nextv (size: number, options: {}): Promise<V[]>
  nextv (size: number): Promise<V[]>

  /**
   * Get all (remaining) values, close the iterator and call `callback(err, values)`.
   */
  all (callback: ValueCallback<V[]>): void
  all (options: {}, callback: ValueCallback<V[]>): void

  /**
   * Get all (remaining) values as an array, automatically closing the iterator.
   *
   * @param options Options (none at the moment, reserved for future use).
   */
  all (options: {}): Promise<V[]>
  all (): Promise<V[]>

  /**
   * Close the iterator. Closing twice is a no-op.
   */
  close (): Promise<void>

  /**
   * Close the iterator, then call `callback(err)`.
   */
  close (callback: ErrorCallback): void

  /**
   * leveldown's name for {@link close}.
   *
   * @deprecated Use {@link close}.
   */
  end (): Promise<void>
  end (callback: ErrorCallback): void
}

/**
 * Options for the {@link Todb.approximateSize} and {@link Todb.compactRange} methods.
 */
export interface StartEndOptions<K> {
  /**
   * Custom key encoding for this operation, used to encode `start` and `end`.
   */
  keyEncoding?: string | Transcoder.PartialEncoder<K> | undefined
}

/**
 * Options of the streams that are not options of the underlying iterator.
 */
export interface StreamOptions {
  /**
   * The maximum number of items to buffer internally before ceasing to read further
   * items.
   *
   * @defaultValue `1000`
   */
  highWaterMark?: number | undefined
}

/**
 * Options for the {@link Todb.createReadStream} method: a range (`gt`, `gte`, `lt`,
 * `lte`), `reverse`, `limit`, `keys`, `values`, `keyEncoding`, `valueEncoding`, and the
 * iterator options `fillCache`, `highWaterMarkBytes`, `snapshot` and `signal`.
 */
export interface ReadStreamOptions<K, V>
  extends AbstractIteratorOptions<K, V>, AdditionalIteratorOptions, StreamOptions {}

/**
 * Options for the {@link Todb.createKeyStream} method: a range (`gt`, `gte`, `lt`, `lte`),
 * `reverse`, `limit`, `keyEncoding`, and the iterator options.
 */
export interface KeyStreamOptions<K>
  extends AbstractKeyIteratorOptions<K>, AdditionalIteratorOptions, StreamOptions {}

/**
 * Options for the {@link Todb.createValueStream} method: a range (`gt`, `gte`, `lt`,
 * `lte`), `reverse`, `limit`, `keyEncoding` (of the range), `valueEncoding`, and the
 * iterator options.
 */
export interface ValueStreamOptions<K, V>
  extends AbstractValueIteratorOptions<K, V>, AdditionalIteratorOptions, StreamOptions {}

/**
 * An object-mode readable stream of items of type `T`, created by
 * {@link Todb.createReadStream}, {@link Todb.createKeyStream} or
 * {@link Todb.createValueStream}. It is declared as Node's `Readable` (whose items are
 * untyped) with typed items.
 *
 * @template T Type of items: entries, keys or values.
 * @template TDatabase Type of the database that the stream reads from.
 */
export interface ReadStream<T, TDatabase = Todb<any, any>> extends Readable {
  /**
   * A read-only reference to the database that this stream is reading from.
   */
  readonly db: TDatabase

  /**
   * Pull an item out of the internal buffer, or `null` if there is none.
   */
  read (size?: number): T | null

  on (event: 'data', listener: (item: T) => void): this
  on (event: 'end' | 'close' | 'pause' | 'readable' | 'resume', listener: () => void): this
  on (event: 'error', listener: (err: Error) => void): this
  on (event: string | symbol, listener: (...args: any[]) => void): this

  once (event: 'data', listener: (item: T) => void): this
  once (event: 'end' | 'close' | 'pause' | 'readable' | 'resume', listener: () => void): this
  once (event: 'error', listener: (err: Error) => void): this
  once (event: string | symbol, listener: (...args: any[]) => void): this

  addListener (event: 'data', listener: (item: T) => void): this
  addListener (event: 'end' | 'close' | 'pause' | 'readable' | 'resume', listener: () => void): this
  addListener (event: 'error', listener: (err: Error) => void): this
  addListener (event: string | symbol, listener: (...args: any[]) => void): this

  prependListener (event: 'data', listener: (item: T) => void): this
  prependListener (event: 'end' | 'close' | 'pause' | 'readable' | 'resume', listener: () => void): this
  prependListener (event: 'error', listener: (err: Error) => void): this
  prependListener (event: string | symbol, listener: (...args: any[]) => void): this

  prependOnceListener (event: 'data', listener: (item: T) => void): this
  prependOnceListener (event: 'end' | 'close' | 'pause' | 'readable' | 'resume', listener: () => void): this
  prependOnceListener (event: 'error', listener: (err: Error) => void): this
  prependOnceListener (event: string | symbol, listener: (...args: any[]) => void): this

  /**
   * Iterate the items with `for await...of`. Breaking out of the loop destroys the stream
   * (and closes its iterator).
   */
  [Symbol.asyncIterator] (): ReadStreamAsyncIterator<T>
}

/**
 * The async iterator of Node's `Readable` (whichever type the installed `@types/node`
 * gives it) with typed items.
 */
export interface ReadStreamAsyncIterator<T> extends NodeReadableAsyncIterator {
  next (...args: [] | [unknown]): Promise<IteratorResult<T>>
  return (value?: any): Promise<IteratorResult<T>>
  throw (err?: any): Promise<IteratorResult<T>>
  [Symbol.asyncIterator] (): ReadStreamAsyncIterator<T>
}

declare type NodeReadableAsyncIterator = ReturnType<Readable[typeof Symbol.asyncIterator]>

// Export remaining types so that consumers don't have to guess whether they're extended
export type BatchOperation<TDatabase, K, V> = AbstractBatchOperation<TDatabase, K, V>

export type IteratorOptions<K, V> = AbstractIteratorOptions<K, V> & AdditionalIteratorOptions
export type KeyIteratorOptions<K> = AbstractKeyIteratorOptions<K> & AdditionalIteratorOptions
export type ValueIteratorOptions<K, V> = AbstractValueIteratorOptions<K, V> & AdditionalIteratorOptions

export type Snapshot = AbstractSnapshot
