-- Key (without prefix) of the owner index for `owner` ('' = the unowned set).
local function ownerkey(owner)
  if owner == '' then return 'uo' end
  return 'o:'..owner
end
