// The Standard Schema v1 types the bus validates payloads with; one declaration for the whole library (src/model).
export { formatIssues, type StandardSchemaV1, type StandardSchemaV1Props, type StandardSchemaV1Result, type StandardSchemaV1Issue } from '../model/standard-schema.ts'
