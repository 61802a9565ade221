/**
 * Response schemas of the character routes, for the OpenAPI document. Objects stay open
 * (additionalProperties: true): Fastify serialises through them and would drop unlisted fields.
 */
const open = (properties: Record<string, unknown>) => ({ type: "object", additionalProperties: true, properties }) as const;

export const characterSchema = open({
  character_id: { type: "string" },
  name: { type: "string" },
  description: { type: "string" },
  model: { type: "string", description: "face model whose embeddings the character holds" },
  embedding_count: { type: "integer" },
  average_embedding: { type: "array", items: { type: "number" } },
  rejected: { type: "array", items: { type: "object", additionalProperties: true }, description: "reference photos refused, with the reason" },
});

export const characterListSchema = open({ characters: { type: "array", items: characterSchema } });

export const verifySchema = open({
  match: { type: "boolean" },
  similarity: { type: "number" },
  threshold: { type: "number" },
  confidence: {
    type: "string",
    enum: ["high", "medium", "low"],
    description: "band of |similarity - threshold| (margins per model, plugins/face/CALIBRATION.md)",
  },
  character_id: { type: "string" },
  model: { type: "string" },
  bbox: { type: ["array", "null"], items: { type: "number" } },
  rotation: { type: "integer", description: "clockwise turn (0/90/180/270) under which the face was found (rotation search)" },
  combination: { type: "string", description: "how the references were combined: best_of_n (similarity is the highest over the references)" },
  reference_count: { type: "integer" },
  best_reference_similarity: { type: "number", description: "highest similarity to a single reference (= similarity)" },
  mean_similarity: { type: "number", description: "similarity to the mean of the normalised references (information)" },
  verifiable: {
    type: "boolean",
    description: "false when the face failed the quality gate (too dark to compare): match is then false whatever the similarity, and quality_issues says why",
  },
  quality_issues: {
    type: "array",
    items: { type: "object", properties: { code: { type: "string", enum: ["too_dark"] }, message: { type: "string" } } },
  },
});

export const deletedSchema = open({ deleted: { type: "boolean" }, character_id: { type: "string" } });
