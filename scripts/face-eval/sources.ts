/**
 * Where the cross-photo photographs of the face evaluation set come from: public GitHub
 * repositories that ship several different photographs of the same people as test or
 * example data. `assemble.ts` copies them out of local git snapshots of those repositories
 * (no network at assembly time) into the `build.ts --add DIR` layout. Nothing here is
 * committed but the list: the photos stay under eval-set/ (gitignored), because most of them
 * carry no licence of their own (the repositories' code licences do not cover the people's
 * likeness or the photographers' rights), so they are used for measurement only.
 *
 * Two splits, disjoint in people and in source:
 * - dev: thresholds are calibrated here (deepface's test set, face_recognition's examples,
 *   one part of LFW, plus build.ts's face-api demo faces and their variants);
 * - heldout: reported only, never tuned on (face-api.js's example characters, openface's and
 *   facenet's examples, another part of LFW).
 * Identities were checked by eye on contact sheets (December 2026); deepface's come from
 * its own same/different labels (master.csv and face-recognition-pivot.csv, "Yes" pairs).
 */

export type Split = "dev" | "heldout";

export interface SourcePhoto {
  /** Path inside the repository at `commit`. */
  path: string;
  identity: string;
}

export interface RepoSource {
  /** owner/name on GitHub. */
  repo: string;
  commit: string;
  split: Split;
  /** Licence as far as it is known; "repository: MIT" means only the code's licence is stated. */
  licence: string;
  photos: SourcePhoto[];
}

const numbered = (dir: string, identity: string, files: string[]): SourcePhoto[] => files.map((f) => ({ path: `${dir}/${f}`, identity }));
const imgs = (dir: string, identity: string, ns: number[]) =>
  numbered(
    dir,
    identity,
    ns.map((n) => `img${n}.jpg`),
  );

const DEEPFACE_DIR = "tests/unit/dataset";

export const REPO_SOURCES: RepoSource[] = [
  {
    repo: "serengil/deepface",
    commit: "243209fd7b46ecdecf72665cc25219f6e8181f25",
    split: "dev",
    licence: "repository: MIT; press and event photos of public figures, photo licences not stated (measurement only, not redistributed)",
    // Clusters of deepface's "Yes" pairs; names by eye. img11_reflection (a mirror of img11) is
    // left out: it is a variant, not another photograph.
    photos: [
      ...imgs(DEEPFACE_DIR, "angelina_jolie", [1, 2, 4, 5, 6, 7, 10, 11]),
      ...imgs(DEEPFACE_DIR, "katy_perry", [26, 27, 28, 42, 43, 44, 45, 46]),
      ...imgs(DEEPFACE_DIR, "scarlett_johansson", [8, 9, 47, 48, 49, 50, 51]),
      ...imgs(DEEPFACE_DIR, "jennifer_aniston", [3, 12, 53, 54, 55, 56]),
      ...imgs(DEEPFACE_DIR, "jack_dorsey", [16, 17, 59, 61, 62]),
      ...imgs(DEEPFACE_DIR, "mark_zuckerberg", [13, 14, 15, 57, 58]),
      ...imgs(DEEPFACE_DIR, "matt_damon", [29, 30, 31, 32, 33]),
      ...imgs(DEEPFACE_DIR, "george_clooney", [38, 39, 40, 41]),
      ...imgs(DEEPFACE_DIR, "leonardo_dicaprio", [34, 35, 36, 37]),
      ...imgs(DEEPFACE_DIR, "elon_musk", [18, 19, 67]),
      ...imgs(DEEPFACE_DIR, "jeff_bezos", [20, 21]),
      ...imgs(DEEPFACE_DIR, "marissa_mayer", [22, 23]),
      ...imgs(DEEPFACE_DIR, "sundar_pichai", [24, 25]),
    ],
  },
  {
    repo: "ageitgey/face_recognition",
    commit: "2e2dccea9dd0ce730c8d464d0f67c6eebb40c9d1",
    split: "dev",
    licence:
      "repository: MIT; Obama and Biden official White House portraits are US government works (public domain), the others' photo licences are not stated (measurement only)",
    // Resized copies of one photo (obama-240p..1080p, 32bit.png, partial faces) and group
    // photos are left out: one file per photograph.
    photos: [
      { path: "examples/alex-lacamoire.png", identity: "alex_lacamoire" },
      { path: "examples/knn_examples/test/alex_lacamoire1.jpg", identity: "alex_lacamoire" },
      { path: "examples/knn_examples/train/alex_lacamoire/img1.jpg", identity: "alex_lacamoire" },
      { path: "examples/biden.jpg", identity: "joe_biden" },
      { path: "examples/knn_examples/train/biden/biden2.jpg", identity: "joe_biden" },
      { path: "examples/knn_examples/train/kit_harington/john1.jpeg", identity: "kit_harington" },
      { path: "examples/knn_examples/train/kit_harington/john2.jpeg", identity: "kit_harington" },
      { path: "examples/knn_examples/test/johnsnow_test1.jpg", identity: "kit_harington" },
      { path: "examples/obama.jpg", identity: "barack_obama" },
      { path: "examples/obama2.jpg", identity: "barack_obama" },
      { path: "examples/obama_small.jpg", identity: "barack_obama" },
      { path: "tests/test_images/obama3.jpg", identity: "barack_obama" },
      { path: "examples/knn_examples/test/obama1.jpg", identity: "barack_obama" },
      { path: "examples/knn_examples/train/rose_leslie/img1.jpg", identity: "rose_leslie" },
      { path: "examples/knn_examples/train/rose_leslie/img2.jpg", identity: "rose_leslie" },
      { path: "examples/lin-manuel-miranda.png", identity: "lin_manuel_miranda" },
    ],
  },
  {
    repo: "justadudewhohacks/face-api.js",
    commit: "a86f011d72124e5fb93e59d5c4ab98f699dd5c9c",
    split: "heldout",
    licence: "repository: MIT; face crops from TV stills (The Big Bang Theory), photo licence not stated (measurement only)",
    photos: ["amy", "bernadette", "howard", "leonard", "penny", "raj", "sheldon", "stuart"].flatMap((who) =>
      [1, 2, 3, 4, 5].map((n) => ({ path: `examples/images/${who}/${who}${n}.png`, identity: `bbt_${who}` })),
    ),
  },
  {
    repo: "cmusatyalab/openface",
    commit: "051475225b5ae335918621077313085bbb7ab5a0",
    split: "heldout",
    licence: "repository: Apache-2.0; photo licences not stated (measurement only)",
    photos: [
      { path: "images/examples/clapton-1.jpg", identity: "eric_clapton" },
      { path: "images/examples/clapton-2.jpg", identity: "eric_clapton" },
      { path: "images/examples/lennon-1.jpg", identity: "john_lennon" },
      { path: "images/examples/lennon-2.jpg", identity: "john_lennon" },
      { path: "images/examples/adams.jpg", identity: "amy_adams" },
      { path: "images/examples/carell.jpg", identity: "steve_carell" },
    ],
  },
  {
    repo: "davidsandberg/facenet",
    commit: "096ed770f163957c1e56efa7feeb194773920f6e",
    split: "heldout",
    licence: "repository: MIT; two LFW images (LFW: news photos collected for research, no licence stated)",
    photos: [
      { path: "data/images/Anthony_Hopkins_0001.jpg", identity: "anthony_hopkins" },
      { path: "data/images/Anthony_Hopkins_0002.jpg", identity: "anthony_hopkins" },
    ],
  },
];

/**
 * Labeled Faces in the Wild (UMass Amherst; news photos, 250x250, one folder per person), as
 * committed whole in CompreFace's history (test_comp_models/lfw, removed later). A seeded
 * choice of people, disjoint between the splits and from every named identity above.
 */
export const LFW_SOURCE = {
  repo: "exadel-inc/CompreFace",
  commit: "c2c15137c03eed96b101e48076d938ac0647191c",
  dir: "test_comp_models/lfw",
  licence: "LFW (vis-www.cs.umass.edu/lfw): news photos collected for research, no licence stated (measurement only, not redistributed)",
  /** People with 2+ photos per split, and up to this many photos each. */
  multiPerSplit: 60,
  maxPhotos: 4,
  /** People with one photo per split (impostors only). */
  singlePerSplit: 30,
  seed: 13,
} as const;

/** Names (LFW spelling, lower case) that must not be drawn from LFW: people the other sources already have. */
export const LFW_EXCLUDE = new Set(
  [
    ...REPO_SOURCES.flatMap((s) => s.photos.map((p) => p.identity)),
    // The actors behind face-api.js's characters.
    "jim_parsons",
    "johnny_galecki",
    "kaley_cuoco",
    "simon_helberg",
    "kunal_nayyar",
    "mayim_bialik",
    "melissa_rauch",
    "kevin_sussman",
    "eva_longoria",
    "bradley_cooper",
    "lin-manuel_miranda",
  ].map((n) => n.toLowerCase()),
);
