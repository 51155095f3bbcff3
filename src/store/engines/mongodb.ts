// skalds/store/mongodb: the distributed engine on Skalds' MongoDB schema (docs/store.md); importing it loads the
// mongodb driver.
export { MongoTaskStore, type MongoTaskStoreOptions } from '../mongo-task-store.ts'
